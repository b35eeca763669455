import { type ActorRefFrom, assign, createActor, enqueueActions, sendTo, setup } from 'xstate';
import type { GovernanceDecision } from '../src/governance/types.js';
import type { HealingPlan } from '../src/healing/types.js';
import type {
  ActionProposal,
  FleetSnapshot,
  NodeCommand,
  RemediationAction,
} from '../src/types.js';
import type { GovernanceReportedEvent } from './governance.machine.js';
import { governanceMachine } from './governance.machine.js';
import type { HealingPlannedEvent } from './healing.machine.js';
import { healingMachine } from './healing.machine.js';
import type { NodeContext, NodeInput, NodeTransitionedEvent } from './node.machine.js';
import { initialNodeContext, nodeMachine } from './node.machine.js';

export type NodeActorRef = ActorRefFrom<typeof nodeMachine>;

/** A node to spawn: new (from its input), or restored into a saved state after a restart. */
export interface NodeSpawn extends NodeInput {
  readonly restored?: {
    readonly state: 'online' | 'overloaded' | 'isolated' | 'offline';
    readonly context: Omit<NodeContext, 'nodeId'>;
  };
}

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

/** The safety review of one tick: what may be applied, and what is held back and by what. */
export interface TickReview {
  readonly approved: readonly ActionProposal[];
  readonly held: ReadonlyArray<{ readonly proposal: ActionProposal; readonly limit: string }>;
  readonly degraded: readonly string[];
}

export interface SupervisorInput {
  readonly tickMs: number;
}

export type SupervisorEvent =
  | { readonly type: 'START' }
  | { readonly type: 'STOP' }
  | { readonly type: 'TICK' }
  | { readonly type: 'TICK.APPLIED' }
  | { readonly type: 'NODES.REGISTER'; readonly nodes: readonly NodeSpawn[] }
  | { readonly type: 'NODES.DEREGISTER'; readonly nodeIds: readonly string[] }
  | { readonly type: 'NODES.STOP'; readonly nodeIds: readonly string[] }
  | {
      readonly type: 'OPERATOR.COMMAND';
      readonly command: NodeCommand;
      readonly action: RemediationAction;
    }
  | HealingPlannedEvent
  | GovernanceReportedEvent
  | NodeTransitionedEvent;

/**
 * The supervisor: owns the node actors, drives the tick with a delayed transition (so a
 * simulated clock drives it in tests), sends each tick's snapshot to the healing and
 * governance actors and applies their answers to the node actors. Reading telemetry and
 * emitting results are I/O, so `createSupervisor` provides them (`takeSnapshot`, `emit*`).
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
  },
  actors: {
    governance: governanceMachine,
    healing: healingMachine,
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
    takeSnapshot: assign(({ context }) => ({
      snapshot: { tick: context.tick, at: 0, nodes: [] },
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
    // Without limits everything proposed is approved; createSupervisor provides the real review.
    reviewProposals: assign(({ context }) => ({
      review: {
        approved: [...(context.plan?.proposals ?? []), ...(context.decision?.proposals ?? [])],
        held: [],
        degraded: [],
      },
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
    signalTickApplied: sendTo(({ self }) => self, { type: 'TICK.APPLIED' as const }),
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
    { id: 'healing', systemId: 'healing', src: 'healing' },
    { id: 'governance', systemId: 'governance', src: 'governance' },
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
            tickPeriod: 'evaluating',
          },
          on: {
            TICK: 'evaluating',
          },
        },
        evaluating: {
          entry: ['beginTick', 'takeSnapshot', 'sendSnapshotToHealing'],
          on: {
            'HEALING.PLANNED': {
              actions: ['recordPlan', 'sendSnapshotToGovernance'],
            },
            'GOVERNANCE.REPORTED': {
              target: 'applying',
              actions: 'recordDecision',
            },
          },
        },
        applying: {
          entry: ['reviewProposals', 'applyDecisions', 'signalTickApplied'],
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
