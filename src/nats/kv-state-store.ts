import type { KV } from '@nats-io/kv';
import { LeaseLostError, StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type DurableNode,
  type DurableState,
  type StateStore,
  stateFormatVersion,
} from '../storage/index.js';
import { isWrongRevision } from './leases.js';
import { keys, shardOf } from './subjects.js';

/** A node as kept in KV: its durable record, its overrides, and who wrote it. */
export interface StoredNode {
  readonly node: DurableNode;
  readonly protected: boolean;
  readonly pinned: boolean;
  /** The fencing token (lease revision) of the holder that wrote it. */
  readonly fence: number;
}

/** What a shard adds up to, for the fleet-wide safety limits of the other supervisors. */
export interface ShardCounts {
  readonly nodes: number;
  readonly isolated: number;
  readonly offline: number;
  /** When each offline node went offline, for those within the detection window. */
  readonly recentOffline: readonly number[];
}

const claimBatch = 64;

interface Written {
  readonly json: string;
  readonly revision: number;
}

interface HeldShard {
  readonly fence: number;
  readonly nodes: Map<string, Written>;
  counts: string;
}

export interface KvStateStoreOptions {
  readonly shards: number;
  /** A shard's fencing token if its lease is still certainly ours (ShardLeases.fence). */
  readonly fenceOf: (shard: number) => number | undefined;
  /** Called once when a write finds the shard taken over: act for it no more. */
  readonly fenced: (shard: number) => void;
  /** The detection window, for the recent-offline counts. */
  readonly windowMs: number;
  readonly log: Logger;
}

/**
 * The state store of a distributed supervisor: one KV key per node, written only when the
 * node's record changes (a tick that changes three nodes writes three keys), every write a
 * compare-and-set at the revision this store last wrote or read. A shard is written only while
 * its lease is certainly held, and taking a shard over (`claim`) rewrites each of its keys
 * with the new fencing token: a former holder that still believes in its lease then meets a
 * revision it does not know and is refused (LeaseLostError), so no write lands after a
 * handover from a holder with a stale token.
 */
export class KvStateStore implements StateStore {
  private readonly held = new Map<number, HeldShard>();
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: { state: DurableState; done: Promise<void> } | undefined;

  constructor(
    private readonly kv: KV,
    private readonly boots: number,
    private readonly options: KvStateStoreOptions,
  ) {}

  /** No nodes: a distributed supervisor starts empty and adopts shards as it acquires them. */
  load(): DurableState {
    return {
      format: 'wyneos-state',
      version: stateFormatVersion,
      savedAt: 0,
      boots: this.boots - 1,
      policyVersion: '',
      nodes: [],
      overrides: { protected: [], pinned: [] },
      exemptions: [],
    };
  }

  /** The shards this store writes now. */
  shards(): number[] {
    return [...this.held.keys()];
  }

  /** The ids of the nodes stored for a held shard. */
  nodeIds(shard: number): string[] {
    return [...(this.held.get(shard)?.nodes.keys() ?? [])];
  }

  /**
   * Takes a shard over: reads every node stored for it and rewrites each with `fence`, so the
   * former holder's next write there is refused. Returns the nodes and their overrides.
   */
  claim(
    shard: number,
    fence: number,
  ): Promise<{ nodes: DurableNode[]; overrides: DurableState['overrides'] }> {
    return this.serially(async () => {
      const written = new Map<string, Written>();
      const nodes: DurableNode[] = [];
      const overrides = { protected: [] as string[], pinned: [] as string[] };
      const list = await this.kv.keys(keys.shardNodes(shard));
      const names: string[] = [];
      for await (const key of list) names.push(key);
      // Stamped a batch at a time: one round trip each, but not one after another.
      const stamped = [];
      for (let i = 0; i < names.length; i += claimBatch) {
        const batch = names.slice(i, i + claimBatch).map((key) => this.stamp(key, fence));
        stamped.push(...(await Promise.all(batch)));
      }
      for (const stored of stamped) {
        if (stored === undefined) continue;
        const { node } = stored.value;
        nodes.push(node);
        if (stored.value.protected) overrides.protected.push(node.id);
        if (stored.value.pinned) overrides.pinned.push(node.id);
        written.set(node.id, { json: stored.json, revision: stored.revision });
      }
      this.held.set(shard, { fence, nodes: written, counts: '' });
      return { nodes, overrides };
    });
  }

  /** Stops writing a shard (after its nodes were saved, or its lease was lost). */
  release(shard: number): void {
    this.held.delete(shard);
  }

  save(state: DurableState): Promise<void> {
    // Saves waiting for the one in flight collapse into one, of the newest state: each state
    // is whole, so writing the newest covers the others (a burst of a thousand registrations
    // is one diff, not a thousand).
    if (this.waiting !== undefined) {
      this.waiting.state = state;
      return this.waiting.done;
    }
    const waiting: { state: DurableState; done: Promise<void> } = {
      state,
      done: this.serially(() => {
        this.waiting = undefined;
        const { overrides } = waiting.state;
        return this.write(waiting.state, new Set(overrides.protected), new Set(overrides.pinned));
      }),
    };
    this.waiting = waiting;
    return waiting.done;
  }

  private async write(state: DurableState, protectedIds: Set<string>, pinnedIds: Set<string>) {
    const { shards, fenceOf, windowMs, log } = this.options;
    const byShard = new Map<number, DurableNode[]>();
    for (const node of state.nodes) {
      const shard = shardOf(node.id, shards);
      const list = byShard.get(shard);
      if (list === undefined) byShard.set(shard, [node]);
      else list.push(node);
    }
    const failures: unknown[] = [];
    for (const [shard, held] of this.held) {
      try {
        if (fenceOf(shard) !== held.fence) {
          throw new LeaseLostError(shard, 'the lease was not renewed within its TTL');
        }
        const nodes = byShard.get(shard) ?? [];
        const present = new Set<string>();
        const writes: Array<Promise<void>> = [];
        for (const node of nodes) {
          present.add(node.id);
          const value: StoredNode = {
            node,
            protected: protectedIds.has(node.id),
            pinned: pinnedIds.has(node.id),
            fence: held.fence,
          };
          const json = JSON.stringify(value);
          const before = held.nodes.get(node.id);
          if (before?.json === json) continue;
          writes.push(this.put(shard, held, node.id, json, before));
        }
        for (const [id, before] of held.nodes) {
          if (!present.has(id)) writes.push(this.remove(shard, held, id, before));
        }
        await settleAll(writes);
        await this.writeCounts(shard, held, nodes, state.savedAt - windowMs);
      } catch (error) {
        failures.push(error);
        if (error instanceof LeaseLostError) {
          this.held.delete(shard);
          log.warn({ shard, error: error.message }, 'shard fenced off: its writes stopped');
          this.options.fenced(shard);
        }
      }
    }
    // Nodes of shards not held here (registered over HTTP, or just released) are not ours to
    // write; the holder of their shard keeps them.
    if (failures.length > 0) throw failures[0];
  }

  private async put(shard: number, held: HeldShard, id: string, json: string, before?: Written) {
    const key = keys.node(shard, id);
    try {
      const revision =
        before === undefined
          ? await this.kv.create(key, json)
          : await this.kv.update(key, json, before.revision);
      held.nodes.set(id, { json, revision });
    } catch (error) {
      throw this.refusal(shard, key, error);
    }
  }

  private async remove(shard: number, held: HeldShard, id: string, before: Written) {
    const key = keys.node(shard, id);
    try {
      await this.kv.purge(key, { previousSeq: before.revision });
      held.nodes.delete(id);
    } catch (error) {
      throw this.refusal(shard, key, error);
    }
  }

  private async writeCounts(
    shard: number,
    held: HeldShard,
    nodes: DurableNode[],
    recentAfter: number,
  ) {
    const counts: ShardCounts = { nodes: nodes.length, isolated: 0, offline: 0, recentOffline: [] };
    const recent: number[] = [];
    let isolated = 0;
    let offline = 0;
    for (const node of nodes) {
      if (node.state === 'isolated') isolated++;
      else if (node.state === 'offline') {
        offline++;
        if (node.since > recentAfter) recent.push(node.since);
      }
    }
    const json = JSON.stringify({ ...counts, isolated, offline, recentOffline: recent });
    if (json === held.counts) return;
    await this.kv.put(keys.counts(shard), json);
    held.counts = json;
  }

  /** Reads one node key and rewrites it with `fence`; a node a concurrent write changed is read again. */
  private async stamp(key: string, fence: number) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(key);
      if (entry === null || entry.operation !== 'PUT') return undefined;
      const value = { ...(entry.json() as StoredNode), fence };
      const json = JSON.stringify(value);
      try {
        const revision = await this.kv.update(key, json, entry.revision);
        return { value, json, revision };
      } catch (error) {
        // The former holder wrote it between our read and our stamp: its write stands (it
        // came before the fence), so read it again.
        if (!isWrongRevision(error)) throw error;
      }
    }
    throw new StorageError(key, `Cannot take ${key} over: it keeps changing under another writer`);
  }

  private refusal(shard: number, key: string, error: unknown): Error {
    if (isWrongRevision(error)) {
      return new LeaseLostError(
        shard,
        `${key} was rewritten by a holder with a newer fencing token`,
      );
    }
    return new StorageError(key, `Writing ${key} to NATS KV failed: ${(error as Error).message}`, {
      cause: error,
    });
  }

  private serially<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }
}

/** Waits for every write; rejects with the first failure once all have settled. */
async function settleAll(writes: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(writes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
