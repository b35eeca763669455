import { type ActorRefFrom, assign, createActor, enqueueActions, sendTo, setup } from 'xstate';
import type { GovernanceDecision } from '../src/governance/types.js';
import type { HealingPlan } from '../src/healing/types.js';
import type { FleetSnapshot, NodeCommand, RemediationAction } from '../src/types.js';
import {
  type GovernanceReportedEvent,
  type HealingPlannedEvent,
  type NodeTransitionedEvent,
  type ReviewDoneEvent,
  type SnapshotTakenEvent,
  type TickAppliedEvent,
  type TickReview,
  tickApplied,
} from './events.js';
import { governanceMachine } from './governance.machine.js';
import { healingMachine } from './healing.machine.js';
import type { NodeContext, NodeInput } from './node.machine.js';
import { initialNodeContext, nodeMachine } from './node.machine.js';
import { reviewMachine } from './review.machine.js';
import { snapshotMachine } from './snapshot.machine.js';

export type { TickReview } from './events.js';

export type NodeActorRef = ActorRefFrom<typeof nodeMachine>;

/** A node to spawn: new (from its input), or restored into a saved state after a restart. */
export interface NodeSpawn extends NodeInput {
  readonly restored?: {
    readonly state: 'online' | 'overloaded' | 'isolated' | 'offline';
    readonly context: Omit<NodeContext, 'nodeId'>;
  };
}

/** What the supervisor actor keeps: its node actors and what each step of the tick answered. */
export interface SupervisorContext {
  readonly tickMs: number;
  /** How many ticks have started. */
  readonly tick: number;
  /**
   * The node actors by node id: a registry this actor owns rather than XState's children
   * map, because `spawnChild` copies that map on every spawn and stop (quadratic in the fleet).
   * Node actors still join this actor's system, with this actor as their parent.
   */
  readonly nodes: Map<string, NodeActorRef>;
  readonly snapshot: FleetSnapshot | null;
  readonly plan: HealingPlan | null;
  readonly decision: GovernanceDecision | null;
  readonly review: TickReview | null;
}

/** What the supervisor actor starts from. */
export interface SupervisorInput {
  readonly tickMs: number;
}

/**
 * What the supervisor actor receives: `createSupervisor`'s commands (start, stop, register,
 * operator commands), its own tick, and the answers of the tick's steps and of its nodes.
 */
export type SupervisorEvent =
  | { readonly type: 'START' }
  | { readonly type: 'STOP' }
  | { readonly type: 'TICK' }
  | TickAppliedEvent
  | { readonly type: 'NODES.REGISTER'; readonly nodes: readonly NodeSpawn[] }
  | { readonly type: 'NODES.DEREGISTER'; readonly nodeIds: readonly string[] }
  | { readonly type: 'NODES.STOP'; readonly nodeIds: readonly string[] }
  | {
      readonly type: 'OPERATOR.COMMAND';
      readonly command: NodeCommand;
      readonly action: RemediationAction;
    }
  | SnapshotTakenEvent
  | HealingPlannedEvent
  | GovernanceReportedEvent
  | ReviewDoneEvent
  | NodeTransitionedEvent;

/**
 * The supervisor: owns the node actors and drives the tick with a delayed transition (so a
 * simulated clock drives it in tests). Each tick goes through its steps as states, each step
 * done by an invoked actor that answers with an event: the snapshot, healing's plan,
 * governance's decision, the review under the safety limits; then the approved decisions are
 * applied to the node actors. This machine's assigns only store what the steps answered, so
 * XState's pure `transition()` repeats no side effect; the steps' logic and the emits
 * (`emit*`, run after each transition) are what `createSupervisor` provides.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
  },
  actors: {
    snapshot: snapshotMachine,
    healing: healingMachine,
    governance: governanceMachine,
    review: reviewMachine,
  },
  delays: {
    tickPeriod: ({ context }) => context.tickMs,
  },
  actions: {
    // An assign, like XState's own `spawn`: the new actors join the registry in context.
    spawnNodes: assign(({ context, event, self }) => {
      if (event.type !== 'NODES.REGISTER') return {};
      for (const input of event.nodes) {
        const { restored } = input;
        // A new node starts from its resolved initial state too, as a restored one does: the
        // initial state has no entry actions, and resolving it is a fraction of the initial
        // transition that computing it per actor ran (about a third of registering a node).
        const snapshot = nodeMachine.resolveState(
          restored === undefined
            ? { value: 'online', context: initialNodeContext(input) }
            : { value: restored.state, context: { ...restored.context, nodeId: input.nodeId } },
        );
        const node = createActor(nodeMachine, { parent: self, id: input.nodeId, input, snapshot });
        // XState keeps its options, the snapshot it started from included, for the actor's
        // life, and reads that one only while it constructs the actor: let it go (about 500 B
        // a node, a quarter of what a node costs).
        (node.options as { snapshot?: unknown }).snapshot = undefined;
        context.nodes.set(input.nodeId, node);
        node.start();
      }
      return {};
    }),
    // XState drains stops through a queue that grows quadratic with its length: callers
    // send these in batches (createSupervisor uses 1,000), not one event for the whole fleet.
    stopNodeActors: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'NODES.DEREGISTER' && event.type !== 'NODES.STOP') return;
      for (const nodeId of event.nodeIds) {
        const node = context.nodes.get(nodeId);
        if (node !== undefined) enqueue.stopChild(node);
      }
    }),
    forgetNodes: ({ context, event }) => {
      if (event.type !== 'NODES.DEREGISTER') return;
      for (const nodeId of event.nodeIds) context.nodes.delete(nodeId);
    },
    beginTick: assign(({ context }) => ({ tick: context.tick + 1 })),
    requestSnapshot: sendTo('snapshot', ({ context, event }) => ({
      type: 'TAKE' as const,
      tick: context.tick,
      clockDriven: event.type !== 'TICK',
    })),
    recordSnapshot: assign(({ event }) => ({
      snapshot: event.type === 'SNAPSHOT.TAKEN' ? event.snapshot : null,
    })),
    sendSnapshotToHealing: sendTo('healing', ({ context }) => ({
      type: 'EVALUATE' as const,
      snapshot: context.snapshot as FleetSnapshot,
    })),
    recordPlan: assign(({ event }) => ({
      plan: event.type === 'HEALING.PLANNED' ? event.plan : null,
    })),
    sendSnapshotToGovernance: sendTo('governance', ({ context }) => ({
      type: 'EVALUATE' as const,
      snapshot: context.snapshot as FleetSnapshot,
    })),
    recordDecision: assign(({ event }) => ({
      decision: event.type === 'GOVERNANCE.REPORTED' ? event.decision : null,
    })),
    sendProposalsToReview: sendTo('review', ({ context }) => {
      const { snapshot, plan, decision } = context;
      if (snapshot === null || plan === null || decision === null) {
        throw new Error('supervisor: a tick reached review without its snapshot, plan or decision');
      }
      return { type: 'REVIEW' as const, snapshot, plan, decision };
    }),
    recordReview: assign(({ event }) => ({
      review: event.type === 'REVIEW.DONE' ? event.review : null,
    })),
    // Observations first, then approved actions: a node that went offline and broke a rule
    // ends isolated.
    applyDecisions: enqueueActions(({ context, enqueue }) => {
      for (const { nodeId, event } of context.plan?.commands ?? []) {
        const node = context.nodes.get(nodeId);
        if (node !== undefined) enqueue.sendTo(node, event);
      }
      for (const { action, event } of context.review?.approved ?? []) {
        const node = context.nodes.get(action.nodeId);
        if (node !== undefined && event !== undefined) enqueue.sendTo(node, event);
      }
    }),
    // Queued behind the node events of this tick, so the tick completes after their transitions.
    signalTickApplied: sendTo(({ self }) => self, tickApplied()),
    forwardOperatorCommand: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'OPERATOR.COMMAND') return;
      const node = context.nodes.get(event.command.nodeId);
      if (node !== undefined) enqueue.sendTo(node, event.command.event);
    }),
    emitTransition: () => {},
    emitOperatorAction: () => {},
    emitTickResults: () => {},
  },
}).createMachine({
  id: 'supervisor',
  /** No node and no tick yet. */
  context: ({ input }) => ({
    tickMs: input.tickMs,
    tick: 0,
    nodes: new Map(),
    snapshot: null,
    plan: null,
    decision: null,
    review: null,
  }),
  invoke: [
    { id: 'snapshot', systemId: 'snapshot', src: 'snapshot' },
    { id: 'healing', systemId: 'healing', src: 'healing' },
    { id: 'governance', systemId: 'governance', src: 'governance' },
    { id: 'review', systemId: 'review', src: 'review' },
  ],
  initial: 'idle',
  on: {
    'NODES.REGISTER': { actions: 'spawnNodes' },
    'NODES.DEREGISTER': { actions: ['stopNodeActors', 'forgetNodes'] },
    'NODES.STOP': { actions: 'stopNodeActors' },
    'OPERATOR.COMMAND': { actions: ['forwardOperatorCommand', 'emitOperatorAction'] },
    'NODE.TRANSITIONED': { actions: 'emitTransition' },
  },
  states: {
    idle: {
      on: {
        START: 'running',
        STOP: 'stopped',
      },
    },
    running: {
      initial: 'waiting',
      on: {
        STOP: 'stopped',
      },
      states: {
        waiting: {
          after: {
            tickPeriod: 'snapshotting',
          },
          on: {
            TICK: 'snapshotting',
          },
        },
        snapshotting: {
          entry: ['beginTick', 'requestSnapshot'],
          on: {
            'SNAPSHOT.TAKEN': {
              target: 'healing',
              actions: 'recordSnapshot',
            },
          },
        },
        healing: {
          entry: 'sendSnapshotToHealing',
          on: {
            'HEALING.PLANNED': {
              target: 'governing',
              actions: 'recordPlan',
            },
          },
        },
        governing: {
          entry: 'sendSnapshotToGovernance',
          on: {
            'GOVERNANCE.REPORTED': {
              target: 'reviewing',
              actions: 'recordDecision',
            },
          },
        },
        reviewing: {
          entry: 'sendProposalsToReview',
          on: {
            'REVIEW.DONE': {
              target: 'applying',
              actions: 'recordReview',
            },
          },
        },
        applying: {
          entry: ['applyDecisions', 'signalTickApplied'],
          on: {
            'TICK.APPLIED': {
              target: 'waiting',
              actions: 'emitTickResults',
            },
          },
        },
      },
    },
    stopped: {
      type: 'final',
    },
  },
});
