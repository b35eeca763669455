import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import type { AuditLog } from '../storage/index.js';
import type { DroppedChanges } from './kept-changes.js';

/** The `reason` of an `abandoned` audit record. */
export const abandonedReason =
  'the lease lapsed before these changes were written; another supervisor holds the shard now, and its decisions stand';

/** The `data` of an `abandoned` audit record: one per node whose undurable changes were dropped. */
export interface AbandonedData {
  readonly shard: number;
  /** This supervisor's actions for the node that were never told, and never will be. */
  readonly actions: readonly string[];
  readonly reason: string;
}

/**
 * What a supervisor does when changes it kept of a shard are dropped (see KeptChanges): the
 * actions of those nodes not told yet are abandoned (`abandon`, the EnforcementPublisher's), and
 * an `abandoned` record per node says in the audit trail that its records since the last
 * durable write (transitions, actions) never took effect. They are flushed with the next commit.
 */
export function recordAbandoned(parts: {
  readonly abandon: (nodeIds: readonly string[]) => ReadonlyMap<string, readonly string[]>;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly log: Logger;
}): DroppedChanges {
  return (shard, nodeIds) => {
    const actions = parts.abandon(nodeIds);
    try {
      for (const nodeId of nodeIds) {
        const data: AbandonedData = {
          shard,
          actions: actions.get(nodeId) ?? [],
          reason: abandonedReason,
        };
        parts.audit.append({ at: parts.clock.now(), type: 'abandoned', nodeId, data: { ...data } });
      }
    } catch (error) {
      // Closed (the supervisor is stopping): the warning KeptChanges logs is all that is left.
      parts.log.warn({ shard, error: thrownMessage(error) }, 'abandoned changes not audited');
    }
  };
}
