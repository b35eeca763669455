import type { Logger } from '../logger.js';
import type { DurableNode, DurableState } from '../storage/index.js';
import type { EnforcementAction } from './enforcement.js';
import { shardOf } from './subjects.js';

/** A node as kept in KV: its durable record, its overrides, and who wrote it. */
export interface StoredNode {
  readonly node: DurableNode;
  readonly protected: boolean;
  readonly pinned: boolean;
  /** The fencing token (lease revision) of the holder that wrote it. */
  readonly fence: number;
  /**
   * The actions the node had not been told of when it was written (those of the commit that
   * wrote it, usually): the next holder of the shard tells it of them.
   */
  readonly tell?: readonly EnforcementAction[];
}

/**
 * A record without its heartbeat seq, for comparing: a node is not rewritten per beat, nor
 * because another holder wrote it last.
 */
export function sameness(value: StoredNode): string {
  return JSON.stringify({ ...value, fence: 0, node: { ...value.node, seq: 0 } });
}

/** The changes of a shard not yet written when it was let go. */
export interface KeptShard {
  /** The shard's last change-stream entry as the store knew it: still last if nobody wrote since. */
  readonly seq: number;
  /** Each node's newest record, or null to delete it. */
  readonly changes: Map<string, string | null>;
}

/** What a store knew of a shard it lets go: its last entry, and what is stored of each node. */
export interface Known {
  readonly seq: number;
  readonly nodes: ReadonlyMap<string, { readonly same: string }>;
}

/** Told the nodes whose kept changes of a shard were dropped: they will never be written. */
export type DroppedChanges = (shard: number, nodeIds: readonly string[]) => void;

/**
 * The changes a state store had not written when it let a shard go (its lease ran out, or a
 * handover's last write failed): pending writes, and the nodes' records as the supervisor let
 * them go. Kept until the store takes the shard back, when they are written with its claim if
 * the shard's change stream still ends where the store left it (nobody wrote since), or until
 * another supervisor is seen holding it; either way what another holder wrote stands.
 */
export class KeptChanges {
  private readonly kept = new Map<number, KeptShard>();

  constructor(
    private readonly shards: number,
    private readonly log: Logger,
    private readonly onDropped?: DroppedChanges,
  ) {}

  /** Keeps what the change stream lacks of a shard let go: its pending writes, then its nodes' records. */
  keep(
    shard: number,
    known: Known,
    pending: Iterable<readonly [string, string | null]>,
    records: Pick<DurableState, 'nodes' | 'overrides'> | undefined,
    fence: number,
  ): void {
    const kept = new Map<string, string | null>();
    const keep = (id: string, json: string | null) => {
      const before = known.nodes.get(id);
      const same =
        json === null ? before === undefined : before?.same === sameness(JSON.parse(json));
      if (same) kept.delete(id);
      else kept.set(id, json);
    };
    for (const [id, json] of pending) keep(id, json);
    const protectedIds = new Set(records?.overrides.protected);
    const pinnedIds = new Set(records?.overrides.pinned);
    for (const node of records?.nodes ?? []) {
      if (shardOf(node.id, this.shards) !== shard) continue;
      const value: StoredNode = {
        node,
        protected: protectedIds.has(node.id),
        pinned: pinnedIds.has(node.id),
        fence,
      };
      keep(node.id, JSON.stringify(value));
    }
    if (kept.size > 0) this.kept.set(shard, { seq: known.seq, changes: kept });
    else this.kept.delete(shard);
  }

  /** The changes kept for a shard being taken back. */
  of(shard: number): KeptShard | undefined {
    return this.kept.get(shard);
  }

  /** The takeover of a shard is done; the changes of `dropped` met another holder's writes. */
  taken(shard: number, dropped: readonly string[]): void {
    this.kept.delete(shard);
    this.dropped(shard, dropped);
  }

  /** The shards let go with changes that KV lacks, waiting to be taken back. */
  waiting(): number[] {
    return [...this.kept.keys()];
  }

  /** Another supervisor holds the shard: its kept changes will never be written here. */
  abandon(shard: number): void {
    this.taken(shard, [...(this.kept.get(shard)?.changes.keys() ?? [])]);
  }

  private dropped(shard: number, nodeIds: readonly string[]): void {
    if (nodeIds.length === 0) return;
    this.log.warn(
      { shard, nodes: nodeIds.length },
      'changes not written before the lease ran out are dropped: another supervisor holds the shard',
    );
    this.onDropped?.(shard, nodeIds);
  }
}
