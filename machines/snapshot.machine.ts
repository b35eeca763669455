import { assign, sendParent, setup } from 'xstate';
import type { FleetSnapshot } from '../src/types.js';
import { type SnapshotTakenEvent, snapshotTaken } from './events.js';

export interface SnapshotContext {
  /** The latest snapshot, or null before the first. */
  readonly snapshot: FleetSnapshot | null;
}

export type SnapshotEvent = {
  readonly type: 'TAKE';
  readonly tick: number;
  /** Whether the clock started the tick (then a late one means the supervisor was not watching). */
  readonly clockDriven: boolean;
};

/**
 * Reads every node's lifecycle and telemetry at one instant and answers its parent with the
 * fleet snapshot. Reading the telemetry store and the clock (`take`) is what `createSupervisor`
 * provides; the default here sees an empty fleet at time 0.
 */
export const snapshotMachine = setup({
  types: {
    context: {} as SnapshotContext,
    events: {} as SnapshotEvent,
  },
  actions: {
    take: assign(({ event }) => ({ snapshot: { tick: event.tick, at: 0, nodes: [] } })),
    sendSnapshot: sendParent(({ context }): SnapshotTakenEvent => {
      if (context.snapshot === null) throw new Error('snapshot: nothing taken');
      return snapshotTaken(context.snapshot);
    }),
  },
}).createMachine({
  id: 'snapshot',
  context: { snapshot: null },
  initial: 'ready',
  states: {
    ready: {
      on: {
        TAKE: {
          actions: ['take', 'sendSnapshot'],
        },
      },
    },
  },
});
