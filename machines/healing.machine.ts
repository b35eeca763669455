import { assign, enqueueActions, setup } from 'xstate';
import type { HealingPlan } from '../src/healing/types.js';
import type { FleetSnapshot } from '../src/types.js';
import { type HealingPlannedEvent, healingPlanned } from './events.js';

/** What the healing actor keeps between evaluations. */
export interface HealingContext {
  /** The latest plan, or null before the first evaluation. */
  readonly plan: HealingPlan | null;
}

/** The one event the healing actor takes: plan for this fleet snapshot. */
export type HealingEvent = { readonly type: 'EVALUATE'; readonly snapshot: FleetSnapshot };

/**
 * Receives a fleet snapshot and answers its parent with a healing plan: lifecycle events for
 * node actors and remediation actions. The planning itself (`planSnapshot`) is a function that
 * `createSupervisor` provides; the default here plans nothing.
 */
export const healingMachine = setup({
  types: {
    context: {} as HealingContext,
    events: {} as HealingEvent,
  },
  actions: {
    planSnapshot: assign(({ event }) => ({
      plan: { tick: event.snapshot.tick, commands: [], proposals: [] },
    })),
    // Without a parent (this machine run alone, as graph tools do) there is nobody to answer:
    // sendParent would throw (statelyai/xstate#5120).
    sendPlan: enqueueActions(({ context, enqueue, self }) => {
      if (self._parent === undefined) return;
      if (context.plan === null) throw new Error('healing: no plan to send');
      const answer: HealingPlannedEvent = healingPlanned(context.plan);
      enqueue.sendParent(answer);
    }),
  },
}).createMachine({
  id: 'healing',
  context: { plan: null },
  initial: 'ready',
  states: {
    ready: {
      on: {
        EVALUATE: {
          actions: ['planSnapshot', 'sendPlan'],
        },
      },
    },
  },
});
