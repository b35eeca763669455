import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { StorageError } from '../errors.js';
import { ensureStream } from './fleet-setup.js';
import type { StoredNode } from './kept-changes.js';
import { changesStream, subjects } from './subjects.js';

/** One entry of a shard's change stream: node records written (null: deleted) under a fence. */
export interface ShardChange {
  readonly fence: number;
  /** Written by a takeover: from here on only this fence may write the shard. */
  readonly claim?: boolean;
  readonly nodes: Record<string, StoredNode | null>;
}

/** An entry as read back, with its place in the stream. */
export interface LoggedChange extends ShardChange {
  readonly seq: number;
}

// Well under the server's default 1 MB max_payload; a larger write goes out in parts.
const maxEntryBytes = 256 * 1024;
/** How long a read waits for the next entry before it takes the rest to be gone. */
const idleMs = 5000;

/**
 * The per-shard change streams (`wyneos.changes.<shard>` in one JetStream stream). Every
 * append names the sequence of the shard's last entry as its writer knows it
 * (Nats-Expected-Last-Subject-Sequence), so two writers never both append after the same
 * entry: once a takeover's claim is in, a former holder's next append is refused.
 */
export class ShardLog {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  /** Opens the stream, creating it on first use. */
  static async open(nc: NatsConnection, replicas = 1): Promise<ShardLog> {
    const jsm = await jetstreamManager(nc);
    await ensureStream(
      jsm,
      { name: changesStream, subjects: [subjects.allChanges], num_replicas: replicas },
      'the change stream',
    );
    return new ShardLog(jetstream(nc), jsm);
  }

  /** The sequence of the shard's last entry (0: none), and the entry. */
  async last(shard: number): Promise<LoggedChange | undefined> {
    const message = await this.jsm.streams.getMessage(changesStream, {
      last_by_subj: subjects.changes(shard),
    });
    if (message === null) return undefined;
    return { ...message.json<ShardChange>(), seq: message.seq };
  }

  /**
   * Appends node records after entry `after`, in parts when they are many; resolves with the
   * sequence of the last part. Rejects with a wrong-last-sequence error (isWrongRevision) when
   * someone else appended after `after`: then nothing of this write is in, unless a later part
   * failed otherwise (the writer then reads what it has, see KvStateStore).
   */
  async append(
    shard: number,
    after: number,
    fence: number,
    records: Iterable<readonly [string, string | null]>,
    claim = false,
  ): Promise<number> {
    let seq = after;
    for (const payload of entries(fence, records, claim)) {
      const ack = await this.js.publish(subjects.changes(shard), payload, {
        expect: { lastSubjectSequence: seq },
      });
      seq = ack.seq;
    }
    return seq;
  }

  /**
   * The shard's entries after `from`, up to `to` (the last one known to be there). Entries
   * trimmed while they are read (a newer checkpoint holds them) are a StorageError: the reader
   * must read the checkpoint again.
   */
  async read(shard: number, from: number, to: number): Promise<LoggedChange[]> {
    const read: LoggedChange[] = [];
    if (to <= from) return read;
    const consumer = await this.js.consumers.get(changesStream, {
      filter_subjects: subjects.changes(shard),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from + 1,
    });
    const messages = await consumer.consume();
    // Nothing left to deliver waits for new entries forever: stop after a while without any.
    let idle = setTimeout(() => messages.stop(), idleMs);
    try {
      for await (const message of messages) {
        read.push({ ...message.json<ShardChange>(), seq: message.seq });
        if (message.seq >= to || message.info.pending === 0) break;
        clearTimeout(idle);
        idle = setTimeout(() => messages.stop(), idleMs);
      }
    } finally {
      clearTimeout(idle);
      await messages.close();
    }
    const last = read.at(-1)?.seq ?? from;
    if (last < to) {
      throw new StorageError(
        subjects.changes(shard),
        `Entries ${last + 1} to ${to} of ${subjects.changes(shard)} are gone (trimmed while read)`,
      );
    }
    return read;
  }

  /** Drops the shard's entries before `seq` (a checkpoint holds them); `seq` itself stays. */
  async trim(shard: number, seq: number): Promise<void> {
    await this.jsm.streams.purge(changesStream, { filter: subjects.changes(shard), seq });
  }
}

/** Entries of at most maxEntryBytes (one record over it goes alone), built as strings. */
function* entries(
  fence: number,
  records: Iterable<readonly [string, string | null]>,
  claim: boolean,
): Generator<string> {
  const head = `{"fence":${fence}${claim ? ',"claim":true' : ''},"nodes":{`;
  let body: string[] = [];
  let size = 0;
  let first = claim;
  for (const [id, json] of records) {
    const item = `${JSON.stringify(id)}:${json ?? 'null'}`;
    if (size + item.length > maxEntryBytes && body.length > 0) {
      yield `${head}${body.join(',')}}}`;
      body = [];
      size = 0;
    }
    body.push(item);
    size += item.length + 1;
    first = false;
  }
  // A claim goes in even with no records: it is the fence.
  if (body.length > 0 || first) yield `${head}${body.join(',')}}}`;
}
