import type { DurableNode } from '../storage/index.js';
import type { NodeState } from '../types.js';

/**
 * What one shard's nodes add up to (see ShardCounts), kept node by node as they change, so a
 * commit that changes a few nodes does not count the whole shard again.
 */
export class ShardTally {
  private readonly states = new Map<string, NodeState>();
  private isolated = 0;
  /** When each offline node went offline. */
  private readonly offline = new Map<string, number>();

  set(node: DurableNode): void {
    this.remove(node.id);
    this.states.set(node.id, node.state);
    if (node.state === 'isolated') this.isolated++;
    else if (node.state === 'offline') this.offline.set(node.id, node.since);
  }

  remove(nodeId: string): void {
    const before = this.states.get(nodeId);
    if (before === undefined) return;
    this.states.delete(nodeId);
    if (before === 'isolated') this.isolated--;
    this.offline.delete(nodeId);
  }

  clear(): void {
    this.states.clear();
    this.offline.clear();
    this.isolated = 0;
  }

  /** The counts, with the offline nodes that went offline after `recentAfter`. */
  counts(recentAfter: number): {
    nodes: number;
    isolated: number;
    offline: number;
    recentOffline: number[];
  } {
    const recentOffline: number[] = [];
    for (const since of this.offline.values()) if (since > recentAfter) recentOffline.push(since);
    return {
      nodes: this.states.size,
      isolated: this.isolated,
      offline: this.offline.size,
      recentOffline,
    };
  }
}
