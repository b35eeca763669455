import type { KV } from '@nats-io/kv';
import { StateCorruptError } from '../errors.js';
import type { StoredNode } from './kept-changes.js';
import { isWrongRevision } from './lease-renewer.js';
import { keys } from './subjects.js';

// Well under the server's default 1 MB max_payload.
const maxChunkBytes = 256 * 1024;

/** The head of a shard's checkpoint: its chunks, and the last change-stream entry in them. */
export interface CheckpointHead {
  readonly v: 1;
  /** The sequence of the last entry of the shard's change stream the checkpoint holds. */
  readonly seq: number;
  readonly gen: string;
  readonly chunks: number;
  readonly nodes: number;
}

/** A head as read, with its KV revision (0: none written yet). */
export interface ReadHead {
  readonly head: CheckpointHead | undefined;
  readonly revision: number;
}

export async function readHead(kv: KV, shard: number): Promise<ReadHead> {
  const entry = await kv.get(keys.checkpoint(shard));
  if (entry === null) return { head: undefined, revision: 0 };
  if (entry.operation !== 'PUT') return { head: undefined, revision: entry.revision };
  return {
    head: parse(entry.string(), keys.checkpoint(shard)) as CheckpointHead,
    revision: entry.revision,
  };
}

/**
 * Reads a checkpoint's nodes. A chunk missing, cut short or not adding up to the head's count
 * is a StateCorruptError naming it: a shard is never taken over with part of its nodes.
 */
export async function readChunks(
  kv: KV,
  shard: number,
  head: CheckpointHead,
): Promise<StoredNode[]> {
  const chunks = await Promise.all(
    Array.from({ length: head.chunks }, async (_, index) => {
      const key = keys.checkpointChunk(shard, head.gen, index);
      const entry = await kv.get(key);
      if (entry === null || entry.operation !== 'PUT') {
        throw new StateCorruptError(
          key,
          `The checkpoint of shard ${shard} lacks chunk ${index + 1} of ${head.chunks} (${key})`,
        );
      }
      const nodes = parse(entry.string(), key);
      if (!Array.isArray(nodes)) throw new StateCorruptError(key, `${key} is not a list of nodes`);
      return nodes as StoredNode[];
    }),
  );
  const nodes = chunks.flat();
  if (nodes.length !== head.nodes) {
    throw new StateCorruptError(
      keys.checkpoint(shard),
      `The checkpoint of shard ${shard} (${keys.checkpoint(shard)}) holds ${nodes.length} nodes, its head says ${head.nodes}`,
    );
  }
  return nodes;
}

/**
 * Writes a checkpoint of `records` (stored nodes as JSON) as of change `seq`: the chunks
 * first, then the head, compare-and-set at `revision` so that a checkpoint never replaces a
 * newer one. Returns the head's new revision, or undefined when a checkpoint as new or newer
 * is there already (its own chunks are then deleted).
 */
export async function writeCheckpoint(
  kv: KV,
  shard: number,
  fence: number,
  seq: number,
  records: readonly string[],
  revision: number,
): Promise<{ head: CheckpointHead; revision: number } | undefined> {
  const gen = `${fence}-${seq}`;
  const chunks = chunk(records);
  await Promise.all(
    chunks.map((json, index) => kv.put(keys.checkpointChunk(shard, gen, index), json)),
  );
  const head: CheckpointHead = { v: 1, seq, gen, chunks: chunks.length, nodes: records.length };
  let expected = revision;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const written =
        expected === 0
          ? await kv.create(keys.checkpoint(shard), JSON.stringify(head))
          : await kv.update(keys.checkpoint(shard), JSON.stringify(head), expected);
      return { head, revision: written };
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
      // Another holder (a takeover, or a former holder) wrote one meanwhile: keep the newer.
      const now = await readHead(kv, shard);
      if (now.head !== undefined && now.head.seq >= seq) break;
      expected = now.revision;
    }
  }
  await dropChunks(kv, shard, head);
  return undefined;
}

/** Deletes a checkpoint's chunks (one replaced by a newer); a failure leaves litter, no harm. */
export async function dropChunks(kv: KV, shard: number, head: CheckpointHead): Promise<void> {
  await Promise.all(
    Array.from({ length: head.chunks }, (_, index) =>
      kv.purge(keys.checkpointChunk(shard, head.gen, index)).catch(() => {}),
    ),
  );
}

function chunk(records: readonly string[]): string[] {
  const chunks: string[] = [];
  let part: string[] = [];
  let size = 0;
  for (const json of records) {
    if (size + json.length > maxChunkBytes && part.length > 0) {
      chunks.push(`[${part.join(',')}]`);
      part = [];
      size = 0;
    }
    part.push(json);
    size += json.length + 1;
  }
  if (part.length > 0 || chunks.length === 0) chunks.push(`[${part.join(',')}]`);
  return chunks;
}

function parse(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StateCorruptError(
      key,
      `${key} is not valid JSON (cut short?): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
