import type { KV } from '@nats-io/kv';
import type { RemoteNodes, RemoteNodeView } from '../supervisor/index.js';
import type { StoredNode } from './kept-changes.js';
import { keys, shardOf } from './subjects.js';

/**
 * Nodes other supervisors hold, as KV has them: the record the holder last wrote (on each change
 * of its lifecycle, registration or overrides; not on every heartbeat) and the lease's holder.
 * Read rather than forwarded: the holder's HTTP address is nowhere in the fleet's state, and a
 * read needs no other supervisor to answer.
 */
export class FleetView implements RemoteNodes {
  constructor(
    private readonly state: KV,
    private readonly holder: (shard: number) => Promise<string | undefined>,
    private readonly shards: number,
    private readonly now: () => number = Date.now,
  ) {}

  async node(nodeId: string): Promise<RemoteNodeView | undefined> {
    const shard = shardOf(nodeId, this.shards);
    const [entry, holder] = await Promise.all([
      this.state.get(keys.node(shard, nodeId)),
      this.holder(shard),
    ]);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const stored = entry.json<StoredNode>();
    const { node } = stored;
    const writtenAt = entry.created.getTime();
    return {
      node: {
        id: node.id,
        labels: node.labels,
        ...(node.version === undefined ? {} : { version: node.version }),
        registeredAt: node.registeredAt,
        state: node.state,
        since: node.since,
        reason: node.reason,
        isolations: node.isolations,
        reinstateAt: node.reinstateAt,
        probationUntil: node.probationUntil,
        protected: stored.protected,
        pinned: stored.pinned,
      },
      source: {
        kind: 'shared-state',
        holder: holder ?? null,
        revision: entry.revision,
        writtenAt,
        ageMs: Math.max(0, this.now() - writtenAt),
      },
    };
  }
}
