import type { KV } from '@nats-io/kv';
import { StateCorruptError, StorageError } from '../errors.js';
import { type ReadHead, readChunks, readHead } from './checkpoint.js';
import type { KeptShard, StoredNode } from './kept-changes.js';
import { isWrongRevision } from './lease-renewer.js';
import type { Listed } from './list-keys.js';
import type { ShardLog } from './shard-log.js';
import { changesStream, keys } from './subjects.js';

/** A shard as stored: its checkpoint with the change-stream entries after it applied. */
export interface LoadedShard {
  readonly nodes: Map<string, StoredNode>;
  /** The sequence of the last entry applied (0: none). */
  readonly seq: number;
  readonly head: ReadHead;
  /** Node records in the entries after the checkpoint: what the next checkpoint saves reading. */
  readonly tail: number;
  /** Read from the per-node keys of an older release (no checkpoint and no entry yet). */
  readonly legacy: boolean;
}

const attempts = 5;

/**
 * Reads a shard: its checkpoint, then the entries of its change stream after it. A checkpoint
 * replaced while it was read (its chunks deleted, the entries before it trimmed) is read
 * again; one that is broken is a StateCorruptError, never an empty shard. A shard with
 * neither (a fleet of an older release) is read from its per-node keys, listed with `list`.
 */
export async function loadShard(
  kv: KV,
  log: ShardLog,
  shard: number,
  list?: (filter: string) => Promise<Listed>,
): Promise<LoadedShard> {
  for (let attempt = 0; ; attempt++) {
    const head = await readHead(kv, shard);
    try {
      const base = head.head === undefined ? [] : await readChunks(kv, shard, head.head);
      const from = head.head?.seq ?? 0;
      const last = (await log.last(shard))?.seq ?? 0;
      const nodes = new Map<string, StoredNode>();
      for (const stored of base) nodes.set(stored.node.id, stored);
      let legacy = false;
      if (head.head === undefined && last === 0 && list !== undefined) {
        for (const stored of await readLegacy(kv, list, shard)) nodes.set(stored.node.id, stored);
        legacy = nodes.size > 0;
      }
      const tail = apply(nodes, await log.read(shard, from, last));
      // Trimmed under us (a newer checkpoint came in while the tail was read): read again.
      if ((await readHead(kv, shard)).revision === head.revision) {
        return { nodes, seq: Math.max(from, last), head, tail, legacy };
      }
      if (attempt >= attempts) {
        throw new StorageError(
          keys.checkpoint(shard),
          `Cannot read shard ${shard}: its checkpoint keeps being replaced while it is read`,
        );
      }
    } catch (error) {
      const replaced = (await readHead(kv, shard)).revision !== head.revision;
      const reread = error instanceof StateCorruptError || error instanceof StorageError;
      if (!reread || !replaced || attempt >= attempts) throw error;
    }
  }
}

/** Applies entries to a shard's nodes; returns how many node records they held. */
export function apply(
  nodes: Map<string, StoredNode>,
  entries: ReadonlyArray<{ readonly nodes: Record<string, StoredNode | null> }>,
): number {
  let records = 0;
  for (const entry of entries) {
    if (typeof entry.nodes !== 'object' || entry.nodes === null) {
      throw new StateCorruptError(
        changesStream,
        `An entry of ${changesStream} holds no node records: ${JSON.stringify(entry).slice(0, 200)}`,
      );
    }
    for (const [id, stored] of Object.entries(entry.nodes)) {
      records++;
      if (stored === null) nodes.delete(id);
      else nodes.set(id, stored);
    }
  }
  return records;
}

/** A shard taken over: its nodes, and where its change stream stands after the claim. */
export interface Claimed extends LoadedShard {
  /** The nodes whose kept changes met another holder's writes and were dropped. */
  readonly dropped: readonly string[];
}

/**
 * Takes a shard over: reads it, then appends a claim after the last entry read, which fences
 * the former holder off (its next append names an older entry and is refused). A claim refused
 * because the former holder appended meanwhile reads those entries too and tries again: what
 * JetStream acknowledged to anyone is never lost. Changes this store kept when it let the shard
 * go are written with the claim if nobody appended since; otherwise they are dropped, as
 * another holder's writes stand. A shard read from per-node keys is written whole with its claim.
 */
export async function takeOver(
  kv: KV,
  log: ShardLog,
  list: (filter: string) => Promise<Listed>,
  shard: number,
  fence: number,
  kept: KeptShard | undefined,
): Promise<Claimed> {
  let loaded = await loadShard(kv, log, shard, list);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const ours = kept !== undefined && kept.seq === loaded.seq;
    const records = new Map<string, string | null>();
    if (loaded.legacy) {
      for (const [id, stored] of loaded.nodes)
        records.set(id, JSON.stringify({ ...stored, fence }));
    }
    if (ours) {
      for (const [id, json] of kept.changes) {
        records.set(id, json === null ? null : JSON.stringify({ ...JSON.parse(json), fence }));
      }
    }
    let seq: number;
    try {
      seq = await log.append(shard, loaded.seq, fence, records, true);
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
      const more = await log.read(shard, loaded.seq, (await log.last(shard))?.seq ?? 0);
      const tail = loaded.tail + apply(loaded.nodes, more);
      loaded = { ...loaded, seq: more.at(-1)?.seq ?? loaded.seq, tail, legacy: false };
      continue;
    }
    for (const [id, json] of records) {
      if (json === null) loaded.nodes.delete(id);
      else loaded.nodes.set(id, JSON.parse(json) as StoredNode);
    }
    const dropped = kept !== undefined && !ours ? [...kept.changes.keys()] : [];
    const claimed = { ...loaded, seq, tail: loaded.tail + records.size, dropped };
    // A former holder's checkpoint that came in meanwhile trimmed what it holds: read again
    // from it (nobody but us appends now).
    const head = await readHead(kv, shard);
    if (head.revision === loaded.head.revision) return claimed;
    const again = await loadShard(kv, log, shard);
    return { ...again, dropped };
  }
  throw new StorageError(
    keys.checkpoint(shard),
    `Cannot take shard ${shard} over: its change stream keeps growing under another writer`,
  );
}

const readBatch = 64;

/** The nodes of a shard in the per-node keys of an older release. */
async function readLegacy(
  kv: KV,
  list: (filter: string) => Promise<Listed>,
  shard: number,
): Promise<StoredNode[]> {
  const filter = keys.shardNodes(shard);
  const { keys: names, complete } = await list(filter);
  // A node not listed would be lost: nothing is taken over from a part.
  if (!complete) {
    throw new StorageError(
      filter,
      `Listing the nodes of shard ${shard} timed out: its takeover is tried again at the next scan`,
    );
  }
  const nodes: StoredNode[] = [];
  for (let i = 0; i < names.length; i += readBatch) {
    const entries = await Promise.all(names.slice(i, i + readBatch).map((key) => kv.get(key)));
    for (const entry of entries) {
      if (entry?.operation === 'PUT') nodes.push(entry.json<StoredNode>());
    }
  }
  return nodes;
}

/** Deletes the per-node keys of an older release once a shard's claim holds them. */
export async function dropLegacy(kv: KV, shard: number, ids: Iterable<string>): Promise<void> {
  const names = [...ids].map((id) => keys.node(shard, id));
  for (let i = 0; i < names.length; i += readBatch) {
    await Promise.all(names.slice(i, i + readBatch).map((key) => kv.purge(key).catch(() => {})));
  }
}
