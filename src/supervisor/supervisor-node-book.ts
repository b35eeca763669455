import type { NodeActorRef, SupervisorEvent } from '../../machines/supervisor.machine.js';
import type { GovernanceEngine } from '../governance/index.js';
import type { FlapCounter, LoadTrends, OverloadStreaks, SafetyGuard } from '../healing/index.js';
import type { LicenceBook } from '../licensing/index.js';
import type { TelemetryStore } from '../telemetry/index.js';
import type { TrustBook } from '../trust/index.js';
import type { ActionLedger } from './action-ledger.js';
import { NodeBook, type PerNodeState } from './node-book.js';

/** XState drains stops through a queue quadratic in its length: stops go in batches. */
export const stopBatchSize = 1000;

/** A supervisor's node book: every component of it that keeps something per node. */
export function supervisorNodeBook(parts: {
  readonly store: TelemetryStore<NodeActorRef>;
  readonly nodeActors: ReadonlyMap<string, NodeActorRef>;
  readonly send: (event: SupervisorEvent) => void;
  readonly streaks: OverloadStreaks;
  readonly flaps: FlapCounter;
  readonly safety: SafetyGuard;
  readonly governance: GovernanceEngine;
  readonly trust: TrustBook;
  readonly ledger: ActionLedger;
  readonly trends: LoadTrends | undefined;
  readonly licences: LicenceBook | undefined;
}): NodeBook {
  const { store, nodeActors, send } = parts;
  const book = new NodeBook();
  book.add('telemetry', {
    has: (id) => store.get(id) !== undefined,
    get size() {
      return store.size;
    },
    forget: (id) => store.delete(id),
  });
  const actors: PerNodeState = {
    has: (id) => nodeActors.has(id),
    get size() {
      return nodeActors.size;
    },
    forget: (id) => send({ type: 'NODES.DEREGISTER', nodeIds: [id] }),
    forgetMany(ids) {
      for (let i = 0; i < ids.length; i += stopBatchSize) {
        send({ type: 'NODES.DEREGISTER', nodeIds: ids.slice(i, i + stopBatchSize) });
      }
    },
  };
  book.add('node-actors', actors);
  book.add('overload-streaks', parts.streaks);
  book.add('flaps', parts.flaps);
  book.add('safety-overrides', parts.safety);
  book.add('rule-streaks', parts.governance);
  book.add('trust', parts.trust);
  book.add('held-actions', parts.ledger);
  if (parts.trends !== undefined) book.add('load-trends', parts.trends);
  if (parts.licences !== undefined) book.add('licences', parts.licences);
  return book;
}
