import { assign, sendParent, setup } from 'xstate';
import type { GovernanceReport } from '../src/governance/types.js';
import type { FleetSnapshot } from '../src/types.js';

export interface GovernanceContext {
  /** The latest report, or null before the first evaluation. */
  readonly report: GovernanceReport | null;
}

export type GovernanceEvent = { readonly type: 'EVALUATE'; readonly snapshot: FleetSnapshot };

export interface GovernanceReportedEvent {
  readonly type: 'GOVERNANCE.REPORTED';
  readonly report: GovernanceReport;
}

/**
 * Receives a fleet snapshot and answers its parent with a governance report. The evaluation
 * itself (`evaluateSnapshot`) is a pure function that `createSupervisor` provides; the default
 * here evaluates no rules.
 */
export const governanceMachine = setup({
  types: {
    context: {} as GovernanceContext,
    events: {} as GovernanceEvent,
  },
  actions: {
    evaluateSnapshot: assign(({ event }) => ({
      report: {
        tick: event.snapshot.tick,
        at: event.snapshot.at,
        nodeCount: event.snapshot.nodes.length,
        rules: [],
        fleetCompliance: 1,
        nodeCompliance: {},
        results: [],
      },
    })),
    sendReport: sendParent(({ context }): GovernanceReportedEvent => {
      if (context.report === null) throw new Error('governance: no report to send');
      return { type: 'GOVERNANCE.REPORTED', report: context.report };
    }),
  },
}).createMachine({
  id: 'governance',
  context: { report: null },
  initial: 'ready',
  states: {
    ready: {
      on: {
        EVALUATE: {
          actions: ['evaluateSnapshot', 'sendReport'],
        },
      },
    },
  },
});
