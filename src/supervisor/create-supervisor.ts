import { assign, createActor } from 'xstate';
import { governanceMachine } from '../../machines/governance.machine.js';
import { healingMachine } from '../../machines/healing.machine.js';
import type { NodeActorRef } from '../../machines/supervisor.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import {
  InvalidNodeError,
  NotStartedError,
  SupervisorStoppedError,
  TickInProgressError,
} from '../errors.js';
import { GovernanceEngine } from '../governance/index.js';
import {
  escalate,
  FlapCounter,
  OverloadStreaks,
  planHealing,
  SafetyGuard,
} from '../healing/index.js';
import { parseHeartbeat, TelemetryStore } from '../telemetry/index.js';
import type { ActionProposal, NodeSnapshot } from '../types.js';
import { ActionLedger } from './action-ledger.js';
import { nodeOperations } from './node-operations.js';
import { resolveOptions } from './options.js';
import { SupervisorOutputs } from './outputs.js';
import { fleetCondition, nodeSnapshots, nodeViews } from './snapshot.js';
import { TickBook } from './tick-book.js';
import type { Supervisor, SupervisorOptions, TickSummary } from './types.js';

const stopBatchSize = 1000;

/**
 * Creates a supervisor: the actors, the telemetry store, the streams and the logger, wired.
 * Nothing ticks until `start()`.
 *
 * @example
 * const sup = createSupervisor({ tickMs: 1000, heartbeatTimeoutMs: 3000 });
 * sup.actions$.subscribe((action) => drain(action.nodeId));
 * sup.start();
 * sup.register({ id: 'node-1', labels: { region: 'eu' }, version: '1.4.2' });
 * sup.heartbeat({ nodeId: 'node-1', seq: 1, load: 0.42 });
 */
export function createSupervisor(options: SupervisorOptions = {}): Supervisor {
  const config = resolveOptions(options);
  const { clock } = config;
  const store = new TelemetryStore<NodeActorRef>(config.detector);
  const outputs = new SupervisorOutputs(config.logger);
  const streaks = new OverloadStreaks();
  const governance = new GovernanceEngine(config.policy, { ruleBudgetMs: config.ruleBudgetMs });
  const safety = new SafetyGuard(config.safety);
  const ledger = new ActionLedger(
    (record) => outputs.action(record),
    config.onAction,
    config.hooks,
    clock,
  );
  const healingOptions = {
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    overload: config.overload,
    detector: { kind: config.detector.kind, failedAt: config.failedAt },
    escalation: config.escalation,
    flapping: config.flapping,
  };
  const flaps = new FlapCounter(config.flapping);
  const book = new TickBook(config, outputs, clock);

  const machine = supervisorMachine.provide({
    actors: {
      healing: healingMachine.provide({
        actions: {
          planSnapshot: assign(({ event }) => ({
            plan: planHealing(event.snapshot, streaks, {
              ...healingOptions,
              proposeRecovery: ledger.hasHook('recover'),
              flappingNodes: flaps.flapping(event.snapshot.at),
            }),
          })),
        },
      }),
      governance: governanceMachine.provide({
        actions: {
          evaluateSnapshot: assign(({ event }) => ({
            decision: governance.evaluate(event.snapshot),
          })),
        },
      }),
    },
    actions: {
      takeSnapshot: assign(({ context, event }) => {
        const at = clock.now();
        book.begin(context.tick, at, event.type !== 'TICK');
        const snapshot = { tick: context.tick, at, nodes: nodeSnapshots(store, book.reader(at)) };
        book.snapshotTaken(snapshot);
        return { snapshot };
      }),
      emitTransition: ({ context, event }) => {
        if (event.type !== 'NODE.TRANSITIONED') return;
        const { nodeId, from, to, reason, at } = event;
        // Isolation and reinstatement are decisions, not flaps; a node isolated starts afresh.
        if (to === 'isolated') flaps.forget(nodeId);
        else if (from !== 'isolated') flaps.record(nodeId, at);
        book.transition(from, to);
        outputs.transition({ nodeId, from, to, reason, at, tick: context.tick });
      },
      emitOperatorAction: ({ event }) => {
        if (event.type === 'OPERATOR.COMMAND') {
          ledger.recordOperator({ origin: 'operator', action: event.action });
        }
      },
      reviewProposals: assign(({ context }) => {
        const { snapshot, plan, decision } = context;
        if (snapshot === null || plan === null || decision === null) return {};
        const proposals = [...plan.proposals, ...decision.proposals.map(withBackoff)];
        const review = safety.review(
          proposals,
          fleetCondition(snapshot, plan, config.heartbeatTimeoutMs),
        );
        return { review };
      }),
      emitTickResults: ({ context }) => {
        const { snapshot, decision, review } = context;
        if (snapshot === null || decision === null || review === null) return;
        ledger.recordTick(review);
        outputs.report(decision.report);
        outputs.tick(book.finish(snapshot, review, decision.report));
      },
    },
  });

  const actor = createActor(machine, {
    input: { tickMs: config.tickMs },
    clock,
    ...(config.inspect === undefined ? {} : { inspect: config.inspect }),
  });
  actor.start();
  const nodeActors = actor.getSnapshot().context.nodes;
  let stopped = false;

  function assertRunning(operation: string): void {
    if (stopped) throw new SupervisorStoppedError(operation);
  }
  const { view, existing, operatorCommand, registerAll } = nodeOperations({
    config,
    store,
    outputs,
    governance,
    book,
    actor,
    assertRunning,
  });

  // A rule's isolation escalates like healing's: it comes back on probation after a backoff.
  function withBackoff(proposal: ActionProposal): ActionProposal {
    const { event } = proposal;
    if (event?.type !== 'ISOLATE' || event.reinstateAt !== undefined) return proposal;
    const node = view(proposal.action.nodeId);
    if (node === undefined) return proposal;
    return { ...proposal, event: { ...event, ...escalate(node, event.at, config.escalation) } };
  }

  return {
    start() {
      assertRunning('start');
      book.start();
      actor.send({ type: 'START' });
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      book.stop();
      const nodeIds = [...nodeActors.keys()];
      for (let i = 0; i < nodeIds.length; i += stopBatchSize) {
        actor.send({ type: 'NODES.STOP', nodeIds: nodeIds.slice(i, i + stopBatchSize) });
      }
      actor.send({ type: 'STOP' });
      actor.stop();
      // Hooks already running finish (each within its timeout) and their outcome is emitted.
      await ledger.settled();
      outputs.complete();
    },

    register(node) {
      const [nodeId] = registerAll([node], false);
      return view(nodeId as string) as NodeSnapshot;
    },

    registerMany(nodes) {
      if (!Array.isArray(nodes)) {
        throw new InvalidNodeError('', 'registerMany expects an array of registrations');
      }
      registerAll(nodes, true);
    },

    deregister(nodeId) {
      const node = existing(nodeId, 'deregister a node');
      store.delete(node.id);
      safety.forget(node.id);
      actor.send({ type: 'NODES.DEREGISTER', nodeIds: [node.id] });
      outputs.deregistered(node.id);
    },

    heartbeat(heartbeat) {
      if (stopped) throw new SupervisorStoppedError('accept a heartbeat');
      store.accept(parseHeartbeat(heartbeat), clock.now());
    },

    tick() {
      assertRunning('tick');
      const state = actor.getSnapshot();
      if (state.matches('idle')) throw new NotStartedError('tick');
      if (!state.matches({ running: 'waiting' })) throw new TickInProgressError();
      actor.send({ type: 'TICK' });
      return book.lastSummary as TickSummary;
    },

    nodes() {
      return nodeViews(store, book.reader(clock.now()));
    },

    node(nodeId) {
      return view(nodeId);
    },

    report() {
      return actor.getSnapshot().context.decision?.report ?? null;
    },

    explain(nodeId) {
      const node = existing(nodeId, 'explain a node');
      const ctx = {
        tick: actor.getSnapshot().context.tick,
        at: clock.now(),
        fleetSize: store.size,
      };
      return governance.explain(node, ctx);
    },

    policy() {
      return governance.policy;
    },

    setPolicy(policy) {
      assertRunning('set a policy');
      const from = governance.policy.version;
      governance.setPolicy(policy);
      outputs.policyChanged(from, policy.version, policy.rules.length);
    },

    exempt(request) {
      assertRunning('add an exemption');
      return governance.exempt(request, clock.now());
    },

    exemptions() {
      return governance.exemptions(clock.now());
    },

    isolate(nodeId, reason = 'isolated by operator') {
      return operatorCommand(nodeId, 'ISOLATE', reason);
    },

    reinstate(nodeId, reason = 'reinstated by operator') {
      return operatorCommand(nodeId, 'REINSTATE', reason);
    },

    protect(nodeId, on = true) {
      safety.protect(existing(nodeId, 'protect a node').id, on);
    },

    pin(nodeId, on = true) {
      safety.pin(existing(nodeId, 'pin a node').id, on);
    },

    overrides() {
      return { protected: safety.protectedIds(), pinned: safety.pinnedIds() };
    },

    ticks$: outputs.ticks.asObservable(),
    transitions$: outputs.transitions.asObservable(),
    reports$: outputs.reports.asObservable(),
    actions$: outputs.actions.asObservable(),
    admissions$: outputs.admissions.asObservable(),
    fleet$: outputs.fleet.asObservable(),
  };
}
