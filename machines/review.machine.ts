import { assign, sendParent, setup } from 'xstate';
import type { GovernanceDecision } from '../src/governance/types.js';
import type { HealingPlan } from '../src/healing/types.js';
import type { FleetSnapshot } from '../src/types.js';
import { type ReviewDoneEvent, reviewDone, type TickReview } from './events.js';

export interface ReviewContext {
  /** The latest review, or null before the first. */
  readonly review: TickReview | null;
}

export type ReviewEvent = {
  readonly type: 'REVIEW';
  readonly snapshot: FleetSnapshot;
  readonly plan: HealingPlan;
  readonly decision: GovernanceDecision;
};

/**
 * Gathers one tick's proposals (healing's, predictive ones, governance's with their backoff,
 * licence gating's), merges those of one type for one node, and puts them to the safety
 * limits; answers its parent with what may be applied and what is held. `createSupervisor`
 * provides the review (`review`); the default here approves everything healing and governance
 * propose.
 */
export const reviewMachine = setup({
  types: {
    context: {} as ReviewContext,
    events: {} as ReviewEvent,
  },
  actions: {
    review: assign(({ event }) => ({
      review: {
        approved: [...event.plan.proposals, ...event.decision.proposals],
        held: [],
        degraded: [],
      },
    })),
    sendReview: sendParent(({ context }): ReviewDoneEvent => {
      if (context.review === null) throw new Error('review: nothing reviewed');
      return reviewDone(context.review);
    }),
  },
}).createMachine({
  id: 'review',
  context: { review: null },
  initial: 'ready',
  states: {
    ready: {
      on: {
        REVIEW: {
          actions: ['review', 'sendReview'],
        },
      },
    },
  },
});
