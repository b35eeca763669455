import { assign, enqueueActions, type SnapshotFrom, setup } from 'xstate';
import type { NodeLifecycleEvent, NodeState } from '../src/types.js';
import { type NodeTransitionedEvent, nodeTransitioned } from './events.js';

/** What a node actor keeps: the facts of its lifecycle, beside the state it is in. */
export interface NodeContext {
  readonly nodeId: string;
  /** When the node entered its current state (supervisor clock, ms). */
  readonly since: number;
  /** Why the node entered its current state. */
  readonly reason: string;
  /** How many times the node has been isolated. */
  readonly isolations: number;
  /** For an automatic isolation: when healing may reinstate the node on probation. */
  readonly reinstateAt: number | null;
  /** Until when a reinstated node is on probation. */
  readonly probationUntil: number | null;
  /** Automatic isolations in a row. */
  readonly escalation: number;
}

/** What a node actor starts from: the node, and when it registered (supervisor clock, ms). */
export interface NodeInput {
  readonly nodeId: string;
  readonly registeredAt: number;
}

/** A new node's context: online since its registration. */
export function initialNodeContext(input: NodeInput): NodeContext {
  return {
    nodeId: input.nodeId,
    since: input.registeredAt,
    reason: 'registered',
    isolations: 0,
    reinstateAt: null,
    probationUntil: null,
    escalation: 0,
  };
}

/**
 * One node's lifecycle. It holds lifecycle facts only; telemetry stays outside the actor, and
 * time enters through the `at` of each event, so there is no `after` and no `invoke` here.
 * `isolated` is left only through `REINSTATE`.
 */
export const nodeMachine = setup({
  types: {
    context: {} as NodeContext,
    events: {} as NodeLifecycleEvent,
    input: {} as NodeInput,
  },
  actions: {
    recordTransition: assign(({ event }) => ({ since: event.at, reason: event.reason })),
    recordIsolation: assign(({ context, event }) => ({
      isolations: context.isolations + 1,
      reinstateAt: event.type === 'ISOLATE' ? (event.reinstateAt ?? null) : null,
      escalation:
        event.type === 'ISOLATE' ? (event.escalation ?? context.escalation) : context.escalation,
    })),
    recordReinstatement: assign(({ event }) => ({
      reinstateAt: null,
      probationUntil: event.type === 'REINSTATE' ? (event.probationUntil ?? null) : null,
    })),
    // XState's sendParent throws without a parent (statelyai/xstate#5120), and a node machine
    // run alone has none: graph tools (`getShortestPaths`, `createTestModel`), a test, a user's
    // own actor. There is nobody to tell then.
    notifySupervisor: enqueueActions(
      ({ context, enqueue, self }, params: { from: NodeState; to: NodeState }) => {
        if (self._parent === undefined) return;
        const event: NodeTransitionedEvent = nodeTransitioned(
          context.nodeId,
          params.from,
          params.to,
          context.reason,
          context.since,
        );
        enqueue.sendParent(event);
      },
    ),
  },
}).createMachine({
  id: 'node',
  /** Online since its registration. */
  context: ({ input }) => initialNodeContext(input),
  initial: 'online',
  states: {
    online: {
      on: {
        OVERLOADED: {
          target: 'overloaded',
          actions: [
            'recordTransition',
            { type: 'notifySupervisor', params: { from: 'online', to: 'overloaded' } },
          ],
        },
        WENT_OFFLINE: {
          target: 'offline',
          actions: [
            'recordTransition',
            { type: 'notifySupervisor', params: { from: 'online', to: 'offline' } },
          ],
        },
        ISOLATE: {
          target: 'isolated',
          actions: [
            'recordTransition',
            'recordIsolation',
            { type: 'notifySupervisor', params: { from: 'online', to: 'isolated' } },
          ],
        },
      },
    },
    overloaded: {
      on: {
        RECOVERED: {
          target: 'online',
          actions: [
            'recordTransition',
            { type: 'notifySupervisor', params: { from: 'overloaded', to: 'online' } },
          ],
        },
        WENT_OFFLINE: {
          target: 'offline',
          actions: [
            'recordTransition',
            { type: 'notifySupervisor', params: { from: 'overloaded', to: 'offline' } },
          ],
        },
        ISOLATE: {
          target: 'isolated',
          actions: [
            'recordTransition',
            'recordIsolation',
            { type: 'notifySupervisor', params: { from: 'overloaded', to: 'isolated' } },
          ],
        },
      },
    },
    offline: {
      on: {
        CAME_BACK: {
          target: 'online',
          actions: [
            'recordTransition',
            { type: 'notifySupervisor', params: { from: 'offline', to: 'online' } },
          ],
        },
        ISOLATE: {
          target: 'isolated',
          actions: [
            'recordTransition',
            'recordIsolation',
            { type: 'notifySupervisor', params: { from: 'offline', to: 'isolated' } },
          ],
        },
      },
    },
    isolated: {
      on: {
        REINSTATE: {
          target: 'online',
          actions: [
            'recordTransition',
            'recordReinstatement',
            { type: 'notifySupervisor', params: { from: 'isolated', to: 'online' } },
          ],
        },
      },
    },
  },
});

/**
 * Names a node machine's snapshot by its state alone, for XState's graph tools
 * (`getShortestPaths`, `getSimplePaths`, `createTestModel`) as `serializeState`. Their default
 * names it by its context too, and the isolation count (and every event's time) makes that
 * context new on each isolation, so a traversal never ends. No transition of the machine
 * depends on its context: the state alone is what the graph has.
 *
 * @example
 * const model = createTestModel(nodeMachine, { serializeState: serializeNodeState, events });
 */
export function serializeNodeState(snapshot: SnapshotFrom<typeof nodeMachine>): string {
  return JSON.stringify(snapshot.value);
}
