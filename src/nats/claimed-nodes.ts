import type { DurableNode, DurableState } from '../storage/index.js';
import type { EnforcementAction } from './enforcement.js';
import { type StoredNode, sameness } from './kept-changes.js';
import type { Written } from './shard-state.js';
import { ShardTally } from './shard-tally.js';

/** What a claimed shard hands the supervisor: its nodes, their overrides and untold actions. */
export interface ClaimedShard {
  readonly nodes: DurableNode[];
  readonly overrides: DurableState['overrides'];
  /** Actions stored as not yet told (StoredNode.tell), by node. */
  readonly untold: Array<[string, readonly EnforcementAction[]]>;
}

/**
 * Splits the stored records of a shard just claimed into what the supervisor adopts and what
 * the store keeps of them: each record as written (to write only what changes) and the shard's
 * tally.
 */
export function claimedNodes(stored: Iterable<StoredNode>): ClaimedShard & {
  readonly written: Map<string, Written>;
  readonly tally: ShardTally;
} {
  const written = new Map<string, Written>();
  const tally = new ShardTally();
  const nodes: DurableNode[] = [];
  const overrides = { protected: [] as string[], pinned: [] as string[] };
  const untold: Array<[string, readonly EnforcementAction[]]> = [];
  for (const record of stored) {
    const { node } = record;
    nodes.push(node);
    tally.set(node);
    if (record.protected) overrides.protected.push(node.id);
    if (record.pinned) overrides.pinned.push(node.id);
    if (record.tell !== undefined) untold.push([node.id, record.tell]);
    written.set(node.id, { same: sameness(record), json: JSON.stringify(record) });
  }
  return { nodes, overrides, untold, written, tally };
}
