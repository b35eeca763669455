import type { KV } from '@nats-io/kv';
import { type Clock, systemClock } from '../clock.js';
import { LeaseLostError, StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import { type CheckpointHead, dropChunks, readHead, writeCheckpoint } from './checkpoint.js';
import { type StoredNode, sameness } from './kept-changes.js';
import { isWrongRevision } from './lease-renewer.js';
import type { ShardLog } from './shard-log.js';
import { subjects } from './subjects.js';

/** A node as its shard's holder last wrote or read it. */
export interface Written {
  /** The record without its seq, for comparing. */
  readonly same: string;
  /** The record as stored, for the checkpoint. */
  readonly json: string;
}

/** What a holder knows of a shard's stored state: its nodes, stream and checkpoint. */
export interface WrittenShard {
  readonly fence: number;
  readonly nodes: Map<string, Written>;
  /** The sequence of the shard's last change-stream entry, as the holder wrote or read it. */
  seq: number;
  /** The shard's checkpoint as the holder last wrote or read it (revision 0: none). */
  head: { readonly head: CheckpointHead | undefined; readonly revision: number };
  /** Node records in the change stream after the checkpoint. */
  tail: number;
  checkpointedAt: number;
  checkpointing: boolean;
}

/**
 * Appends a round of node records (null: deleted) to the shard's change stream after the
 * entry the holder knows last; deletions of nodes it never stored are left out.
 */
export async function appendRound(
  changes: ShardLog,
  shard: number,
  held: WrittenShard,
  writes: ReadonlyArray<readonly [string, string | null]>,
): Promise<void> {
  const records = writes.filter(([id, json]) => json !== null || held.nodes.has(id));
  if (records.length === 0) return;
  try {
    held.seq = await changes.append(shard, held.seq, held.fence, records);
  } catch (error) {
    if (!isWrongRevision(error)) throw failure(shard, error);
    // An append of ours whose acknowledgement was lost got in after all: it held records
    // this round writes again (they were kept for it), so this round goes after it.
    const last = await changes.last(shard).catch(() => undefined);
    if (last === undefined || last.fence !== held.fence) throw failure(shard, error);
    held.seq = await changes.append(shard, last.seq, held.fence, records).catch((again) => {
      throw failure(shard, again);
    });
  }
  for (const [id, json] of records) {
    if (json === null) held.nodes.delete(id);
    else held.nodes.set(id, { same: sameness(JSON.parse(json) as StoredNode), json });
  }
  held.tail += records.length;
}

function failure(shard: number, error: unknown): Error {
  if (isWrongRevision(error)) {
    return new LeaseLostError(shard, 'its change stream has a claim with a newer fencing token');
  }
  const subject = subjects.changes(shard);
  return new StorageError(subject, `Appending to ${subject} failed: ${thrownMessage(error)}`, {
    cause: error,
  });
}

export interface CheckpointOptions {
  /**
   * A shard is checkpointed once its change stream holds this many node records since the
   * last checkpoint, or as many as the shard has nodes if that is more. @defaultValue 2000
   */
  readonly checkpointRecords?: number;
  /** ...or once this long has passed with any record since. @defaultValue 60000 */
  readonly checkpointMs?: number;
  readonly clock?: Clock;
  readonly log: Logger;
}

/**
 * Checkpoints the shards whose change stream has grown enough, in the background (a failure
 * leaves the stream as it was, longer): writes the chunks and the head, trims the stream up
 * to it and deletes the chunks it replaces.
 */
export class Checkpoints {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly kv: KV,
    private readonly changes: ShardLog,
    private readonly options: CheckpointOptions,
  ) {}

  due(shard: number, held: WrittenShard): void {
    const { checkpointRecords = 2000, checkpointMs = 60_000, clock = systemClock } = this.options;
    if (held.checkpointing || held.tail === 0) return;
    const now = clock.now();
    const grown = held.tail >= Math.max(checkpointRecords, held.nodes.size);
    if (!grown && now - held.checkpointedAt < checkpointMs) return;
    held.checkpointing = true;
    const { seq, tail } = held;
    const records = [...held.nodes.values()].map((written) => written.json);
    const run = this.write(shard, held, seq, tail, records)
      .catch((error: unknown) => {
        this.options.log.warn({ shard, error: thrownMessage(error) }, 'checkpoint failed');
      })
      .finally(() => {
        held.checkpointing = false;
        held.checkpointedAt = now;
        this.running.delete(run);
      });
    this.running.add(run);
  }

  /** Resolves once the checkpoints under way are written or have failed. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private async write(
    shard: number,
    held: WrittenShard,
    seq: number,
    tail: number,
    records: string[],
  ): Promise<void> {
    const { kv } = this;
    const written = await writeCheckpoint(kv, shard, held.fence, seq, records, held.head.revision);
    if (written === undefined) {
      // A newer one is there (its writer holds the shard now, or will be fenced off).
      held.head = await readHead(kv, shard);
      return;
    }
    const before = held.head.head;
    held.head = written;
    held.tail -= tail;
    await this.changes.trim(shard, seq);
    if (before !== undefined) await dropChunks(kv, shard, before);
  }
}
