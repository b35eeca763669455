import { assign, createActor } from 'xstate';
import { governanceMachine } from '../../machines/governance.machine.js';
import { healingMachine } from '../../machines/healing.machine.js';
import type { NodeActorRef } from '../../machines/supervisor.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import {
  AdmissionDeniedError,
  InvalidArgumentError,
  InvalidNodeError,
  NotStartedError,
  SupervisorStoppedError,
  TickInProgressError,
  UnknownNodeError,
} from '../errors.js';
import { GovernanceEngine } from '../governance/index.js';
import { escalate, FlapCounter } from '../healing/escalation.js';
import { OverloadStreaks, planHealing, SafetyGuard } from '../healing/index.js';
import { parseHeartbeat, parseRegistration, TelemetryStore } from '../telemetry/index.js';
import type { NodeRegistration } from '../telemetry/types.js';
import type { ActionProposal, NodeLifecycleEvent, NodeSnapshot } from '../types.js';
import { ActionLedger } from './action-ledger.js';
import { admissionFailures } from './admission.js';
import { resolveOptions } from './options.js';
import { SupervisorOutputs } from './outputs.js';
import { fleetCondition, nodeSnapshot, nodeSnapshots, nodeViews } from './snapshot.js';
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
  // The registry is one Map for the actor's lifetime, so it can be read without a snapshot.
  const nodeActors = actor.getSnapshot().context.nodes;
  let stopped = false;

  function assertRunning(operation: string): void {
    if (stopped) throw new SupervisorStoppedError(operation);
  }

  // A rule's isolation escalates like healing's: it comes back on probation after a backoff.
  function withBackoff(proposal: ActionProposal): ActionProposal {
    const { event } = proposal;
    if (event?.type !== 'ISOLATE' || event.reinstateAt !== undefined) return proposal;
    const node = view(proposal.action.nodeId);
    if (node === undefined) return proposal;
    return { ...proposal, event: { ...event, ...escalate(node, event.at, config.escalation) } };
  }

  function view(nodeId: string): NodeSnapshot | undefined {
    const record = store.get(nodeId);
    return record?.attached === undefined
      ? undefined
      : nodeSnapshot(record, record.attached, book.reader(clock.now()));
  }

  function existing(nodeId: unknown, operation: string): NodeSnapshot {
    assertRunning(operation);
    if (typeof nodeId !== 'string') {
      throw new InvalidArgumentError('nodeId', `expected a string, got ${typeof nodeId}`);
    }
    const node = view(nodeId);
    if (node === undefined) throw new UnknownNodeError(nodeId);
    return node;
  }

  // Isolating an isolated node, or reinstating one that is not isolated, changes nothing.
  function operatorCommand(
    nodeId: unknown,
    type: 'ISOLATE' | 'REINSTATE',
    reason: unknown,
    ruleId?: string,
  ): NodeSnapshot {
    const node = existing(nodeId, type === 'ISOLATE' ? 'isolate a node' : 'reinstate a node');
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 1024) {
      throw new InvalidArgumentError('reason', 'expected a string of 1 to 1024 characters');
    }
    if ((node.state === 'isolated') === (type === 'ISOLATE')) return node;
    const at = clock.now();
    const event: NodeLifecycleEvent = { type, at, reason };
    const action: ActionProposal['action'] = {
      type: type === 'ISOLATE' ? 'isolate' : 'reinstate',
      nodeId: node.id,
      reason,
      tick: actor.getSnapshot().context.tick,
      at,
      ...(ruleId === undefined ? {} : { ruleId }),
    };
    actor.send({ type: 'OPERATOR.COMMAND', command: { nodeId: node.id, event }, action });
    return view(node.id) as NodeSnapshot;
  }

  // All or nothing: every registration is checked before any is applied.
  function registerAll(inputs: readonly unknown[], batch: boolean): string[] {
    assertRunning('register a node');
    const registrations: NodeRegistration[] = inputs.map((input, index) =>
      parseRegistration(input, batch ? `/${index}` : ''),
    );
    store.assertAvailable(registrations);
    const registeredAt = clock.now();
    const tick = actor.getSnapshot().context.tick;
    const failed = admissionFailures(governance, registrations, registeredAt, tick, store.size);
    const decide = (nodeId: string, admitted: boolean) => {
      const failures = (failed.get(nodeId) ?? []).map(({ ruleId, message }) => ({
        ruleId,
        message,
      }));
      const isolated = admitted && failures.length > 0;
      outputs.admission({ nodeId, admitted, isolated, failures, at: registeredAt });
    };
    if (failed.size > 0 && config.admission === 'refuse') {
      for (const nodeId of failed.keys()) decide(nodeId, false);
      throw new AdmissionDeniedError([...failed.values()].flat());
    }

    const records = registrations.map((registration) => store.add(registration, registeredAt));
    const nodeIds = registrations.map((r) => r.id);
    actor.send({
      type: 'NODES.REGISTER',
      nodes: nodeIds.map((nodeId) => ({ nodeId, registeredAt })),
    });
    // Each record points at its actor, so a tick reads both without a lookup per node.
    for (const record of records) record.attached = nodeActors.get(record.id);
    outputs.registered(nodeIds);
    for (const nodeId of nodeIds) decide(nodeId, true);
    for (const [nodeId, failures] of failed) {
      const first = failures[0] as { ruleId: string; message: string };
      operatorCommand(
        nodeId,
        'ISOLATE',
        `admission: rule ${first.ruleId} failed: ${first.message}`,
        first.ruleId,
      );
    }
    return nodeIds;
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
