import { assign, enqueueActions, setup } from 'xstate';
import type { GovernanceDecision } from '../src/governance/types.js';
import type { FleetSnapshot } from '../src/types.js';
import { type GovernanceReportedEvent, governanceReported } from './events.js';

/** What the governance actor keeps between evaluations. */
export interface GovernanceContext {
  /** The latest decision, or null before the first evaluation. */
  readonly decision: GovernanceDecision | null;
}

/** The one event the governance actor takes: evaluate the rules on this fleet snapshot. */
export type GovernanceEvent = { readonly type: 'EVALUATE'; readonly snapshot: FleetSnapshot };

/**
 * Receives a fleet snapshot and answers its parent with a decision: the governance report,
 * and the node events and actions that enforcement asks for. The evaluation itself
 * (`evaluateSnapshot`) is provided by `createSupervisor`; the default here has no rules.
 */
export const governanceMachine = setup({
  types: {
    context: {} as GovernanceContext,
    events: {} as GovernanceEvent,
  },
  actions: {
    evaluateSnapshot: assign(({ event }) => ({
      decision: {
        report: {
          runId: `tick-${event.snapshot.tick}`,
          tick: event.snapshot.tick,
          at: event.snapshot.at,
          policyVersion: 'none',
          nodeCount: event.snapshot.nodes.length,
          rules: [],
          fleetCompliance: 1,
          nodeCompliance: {},
          results: [],
          changes: { newlyFailing: [], resolved: [] },
        },
        proposals: [],
      },
    })),
    // Without a parent (this machine run alone, as graph tools do) there is nobody to answer:
    // sendParent would throw (statelyai/xstate#5120).
    sendDecision: enqueueActions(({ context, enqueue, self }) => {
      if (self._parent === undefined) return;
      if (context.decision === null) throw new Error('governance: no decision to send');
      const answer: GovernanceReportedEvent = governanceReported(context.decision);
      enqueue.sendParent(answer);
    }),
  },
}).createMachine({
  id: 'governance',
  context: { decision: null },
  initial: 'ready',
  states: {
    ready: {
      on: {
        EVALUATE: {
          actions: ['evaluateSnapshot', 'sendDecision'],
        },
      },
    },
  },
});
