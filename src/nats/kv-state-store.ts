import type { KV } from '@nats-io/kv';
import { type Clock, systemClock } from '../clock.js';
import { LeaseLostError } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  type DurableNode,
  type DurableState,
  type StateStore,
  stateFormatVersion,
} from '../storage/index.js';
import { type ClaimedShard, claimedNodes } from './claimed-nodes.js';
import type { EnforcementAction } from './enforcement.js';
import { type DroppedChanges, KeptChanges, type StoredNode, sameness } from './kept-changes.js';
import { listKeys } from './list-keys.js';
import type { ShardLog } from './shard-log.js';
import {
  appendRound,
  type CheckpointOptions,
  Checkpoints,
  type WrittenShard,
} from './shard-state.js';
import type { ShardTally } from './shard-tally.js';
import { keys, shardOf } from './subjects.js';
import { dropLegacy, takeOver } from './takeover.js';

export type { StoredNode } from './kept-changes.js';

/** What a shard adds up to, for the fleet-wide safety limits of the other supervisors. */
export interface ShardCounts {
  readonly nodes: number;
  readonly isolated: number;
  readonly offline: number;
  /** When each offline node went offline, for those within the detection window. */
  readonly recentOffline: readonly number[];
}

interface HeldShard extends WrittenShard {
  /** What the shard adds up to as the supervisor last handed it over, kept as nodes change. */
  readonly tally: ShardTally;
  counts: string;
  /** Being handed over: its nodes leave the supervisor, which must not delete them in KV. */
  draining: boolean;
}

/** A write not yet made: the node's newest record, or null to delete it. */
interface Pending {
  readonly shard: number;
  readonly json: string | null;
}

export interface KvStateStoreOptions extends Omit<CheckpointOptions, 'log'> {
  readonly shards: number;
  /** A shard's fencing token if its lease is still certainly ours (ShardLeases.fence). */
  readonly fenceOf: (shard: number) => number | undefined;
  /** Called once when a write finds the shard taken over: act for it no more. */
  readonly fenced: (shard: number) => void;
  /**
   * Called when changes kept for a shard let go are dropped (another supervisor held it since:
   * its writes stand), with the nodes whose changes will never be written. @defaultValue none
   */
  readonly dropped?: DroppedChanges;
  /** The actions a node has not been told of yet, stored with it (StoredNode.tell). @defaultValue none */
  readonly untoldOf?: (nodeId: string) => readonly EnforcementAction[] | undefined;
  /** The detection window, for the recent-offline counts. */
  readonly windowMs: number;
  /** The shards' change streams. */
  readonly changes: ShardLog;
  /**
   * How long a takeover of a shard still in per-node keys (an older release's) waits for their
   * list before it gives up (to be tried again at the next lease scan). @defaultValue 10000
   */
  readonly listMs?: number;
  /** The listing's deadline and checkpoint ages are measured on it. @defaultValue systemClock */
  readonly clock?: Clock;
  readonly log: Logger;
}

/**
 * The state store of a distributed supervisor. Each shard is a checkpoint (its nodes' records,
 * chunked in KV) and a change stream (JetStream, `wyneos.changes.<shard>`) of the records
 * written since; a node is written when its record changes (a tick that changes three nodes
 * appends one entry with three records). Every append names the shard's last entry as this
 * store knows it, and a takeover (`claim`) appends a claim after the last one it read: a
 * former holder that still believes in its lease is then refused (LeaseLostError), so nothing
 * lands after a handover from a holder with a stale token, and nothing acknowledged before it
 * is lost. `save` compares the state (`saveChanges` only the nodes that changed, which is what
 * a commit hands it) with what is stored, keeping each changed node's newest record until it is
 * written, so saves that queue up behind a slow one collapse into one round of writes and no
 * change is lost to a newer state that no longer holds the node (one handed over meanwhile).
 * Once a shard's stream has grown enough since its checkpoint, a new checkpoint is written and
 * the stream trimmed to it, so a takeover reads a checkpoint and a short tail.
 */
export class KvStateStore implements StateStore {
  private readonly held = new Map<number, HeldShard>();
  private pending = new Map<string, Pending>();
  private counts = new Map<number, string>();
  private readonly kept: KeptChanges;
  private readonly checkpoints: Checkpoints;
  private queue: Promise<unknown> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(
    private readonly kv: KV,
    private readonly boots: number,
    private readonly options: KvStateStoreOptions,
  ) {
    this.kept = new KeptChanges(options.shards, options.log, options.dropped);
    this.checkpoints = new Checkpoints(kv, options.changes, options);
  }

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

  /**
   * Takes a shard over: reads its checkpoint and change stream and appends a claim with
   * `fence`, so the former holder's next write there is refused, writing what this store kept
   * of the shard when it let it go if nobody wrote since (see KeptChanges). Returns the nodes
   * and their overrides.
   */
  claim(shard: number, fence: number): Promise<ClaimedShard> {
    return this.serially(async () => {
      const { listMs = 10_000, clock = systemClock, changes, log } = this.options;
      const list = (filter: string) => listKeys(this.kv, filter, listMs, clock);
      const claimed = await takeOver(this.kv, changes, list, shard, fence, this.kept.of(shard));
      this.kept.taken(shard, claimed.dropped);
      const { nodes, overrides, untold, written, tally } = claimedNodes(claimed.nodes.values());
      const held: HeldShard = {
        fence,
        nodes: written,
        seq: claimed.seq,
        head: claimed.head,
        tail: claimed.tail,
        checkpointedAt: clock.now(),
        checkpointing: false,
        tally,
        counts: '',
        draining: false,
      };
      this.held.set(shard, held);
      if (claimed.legacy) {
        log.info({ shard, nodes: nodes.length }, 'shard moved from per-node keys to its stream');
        void dropLegacy(this.kv, shard, claimed.nodes.keys());
      }
      this.checkpoints.due(shard, held);
      return { nodes, overrides, untold };
    });
  }

  /** The shards let go with changes that KV lacks, waiting to be taken back. */
  waiting(): number[] {
    return this.kept.waiting();
  }

  /** Another supervisor holds the shard: the changes kept for it will never be written here. */
  abandon(shard: number): void {
    this.kept.abandon(shard);
  }

  /** A shard is being handed over: keep writing its nodes' changes, delete none. */
  drain(shard: number): void {
    const held = this.held.get(shard);
    if (held !== undefined) held.draining = true;
  }

  /**
   * Stops writing a shard (after its nodes were saved, or its lease was lost). What KV lacks of
   * its nodes, the writes still pending and `records` (their state as the supervisor lets them
   * go), is kept: a save that failed or never started (its flush failed) must not lose a
   * decision that the retry would have written. If this store takes the shard back before
   * anyone else has, `claim` writes it.
   */
  release(shard: number, records?: Pick<DurableState, 'nodes' | 'overrides'>): void {
    const held = this.held.get(shard);
    this.held.delete(shard);
    this.counts.delete(shard);
    const pending: Array<[string, string | null]> = [];
    for (const [id, write] of this.pending) {
      if (write.shard !== shard) continue;
      this.pending.delete(id);
      pending.push([id, write.json]);
    }
    // Released twice (fenced, then let go): the first kept what there was.
    if (held !== undefined) this.kept.keep(shard, held, pending, records, held.fence);
  }

  save(state: DurableState): Promise<void> {
    const present = new Set<string>();
    for (const held of this.held.values()) held.tally.clear();
    this.compare(state, (node) => present.add(node.id));
    for (const [shard, held] of this.held) {
      if (held.draining) continue;
      for (const id of held.nodes.keys()) {
        if (!present.has(id)) this.pending.set(id, { shard, json: null });
      }
    }
    return this.enqueue(state.savedAt);
  }

  /**
   * Saves the changed nodes alone: compares and writes those, deletes those the supervisor no
   * longer has, and leaves every other node as KV has it (see StateStore.saveChanges).
   */
  saveChanges(state: DurableState, nodes: ReadonlySet<string>): Promise<void> {
    const { shards } = this.options;
    const gone = new Set(nodes);
    this.compare(state, (node) => gone.delete(node.id));
    for (const id of gone) {
      const shard = shardOf(id, shards);
      const held = this.held.get(shard);
      if (held === undefined || held.draining) continue;
      held.tally.remove(id);
      // A deletion even where KV lacks the node yet: its creation may be in flight, and the
      // deletion, queued behind it, then finds it (and otherwise writes nothing).
      this.pending.set(id, { shard, json: null });
    }
    return this.enqueue(state.savedAt);
  }

  // One round of writes queued at a time: a later save's changes join it before it starts.
  private enqueue(savedAt: number): Promise<void> {
    for (const [shard, held] of this.held) {
      if (held.draining) continue;
      const counts = held.tally.counts(savedAt - this.options.windowMs);
      this.counts.set(shard, JSON.stringify(counts satisfies ShardCounts));
    }
    this.queued ??= this.serially(() => {
      this.queued = undefined;
      return this.write();
    });
    return this.queued;
  }

  /**
   * Compares the state's nodes with KV, keeping each that differs as a pending write of its
   * newest record, and counts them into their shard's tally.
   */
  private compare(state: DurableState, seen: (node: DurableNode) => void): void {
    const { shards } = this.options;
    const protectedIds = new Set(state.overrides.protected);
    const pinnedIds = new Set(state.overrides.pinned);
    for (const node of state.nodes) {
      const shard = shardOf(node.id, shards);
      const held = this.held.get(shard);
      // Nodes of shards not held here (registered over HTTP, or just handed over) are not
      // this store's to write: the holder of their shard keeps them.
      if (held === undefined) continue;
      seen(node);
      held.tally.set(node);
      const tell = this.options.untoldOf?.(node.id);
      const value: StoredNode = {
        node,
        protected: protectedIds.has(node.id),
        pinned: pinnedIds.has(node.id),
        fence: held.fence,
        ...(tell === undefined || tell.length === 0 ? {} : { tell }),
      };
      // Compared without the heartbeat seq, which changes on every beat: a node is written
      // when its lifecycle, registration or overrides change, not when it merely heartbeats.
      // The seq stored is the one at that write, enough to refuse heartbeats older still.
      const json = JSON.stringify(value);
      if (held.nodes.get(node.id)?.same === sameness(value)) this.pending.delete(node.id);
      else this.pending.set(node.id, { shard, json });
    }
  }

  private async write(): Promise<void> {
    const { fenceOf, log } = this.options;
    const batch = this.pending;
    this.pending = new Map();
    const byShard = new Map<number, Array<[string, string | null]>>();
    for (const [id, { shard, json }] of batch) {
      const list = byShard.get(shard);
      if (list === undefined) byShard.set(shard, [[id, json]]);
      else list.push([id, json]);
    }
    for (const shard of this.counts.keys()) if (!byShard.has(shard)) byShard.set(shard, []);
    const failures: unknown[] = [];
    for (const [shard, writes] of byShard) {
      const held = this.held.get(shard);
      if (held === undefined) continue;
      try {
        if (fenceOf(shard) !== held.fence) {
          throw new LeaseLostError(shard, 'the lease was not renewed within its TTL');
        }
        await appendRound(this.options.changes, shard, held, writes);
        const counts = this.counts.get(shard);
        if (counts !== undefined && counts !== held.counts) {
          await this.kv.put(keys.counts(shard), counts);
          held.counts = counts;
        }
      } catch (error) {
        failures.push(error);
        // Kept for the next save, unless a newer change of the same node is waiting already.
        for (const [id, json] of writes) {
          if (!this.pending.has(id)) {
            this.pending.set(id, { shard, json });
          }
        }
        if (error instanceof LeaseLostError) {
          log.warn({ shard, error: error.message }, 'shard fenced off: its writes stopped');
          // The owner lets the shard go (releasing it here, with its nodes' records); released
          // here too in case it does not.
          this.options.fenced(shard);
          this.release(shard);
        }
      }
    }
    for (const [shard, held] of this.held) this.checkpoints.due(shard, held);
    if (failures.length > 0) throw failures[0];
    // Kept changes of a shard let go are not durable until it is taken back: saying otherwise
    // would acknowledge a decision that a crash now loses.
    const [waiting] = this.kept.waiting();
    if (waiting !== undefined) {
      throw new LeaseLostError(waiting, 'changes of its nodes wait to be written until it is back');
    }
  }

  /** Resolves once the checkpoints under way are written or have failed (tests). */
  checkpointed(): Promise<void> {
    return this.checkpoints.settled();
  }

  private serially<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }
}
