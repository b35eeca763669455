import { createActor } from 'xstate';
import type { NodeActorRef } from '../../machines/supervisor.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { NotStartedError, SupervisorStoppedError, TickInProgressError } from '../errors.js';
import { GovernanceEngine } from '../governance/index.js';
import { FlapCounter, LoadTrends, OverloadStreaks, SafetyGuard } from '../healing/index.js';
import { TraceRecorder } from '../replay/recorder.js';
import type { StateStore } from '../storage/index.js';
import { TelemetryStore } from '../telemetry/index.js';
import { TrustBook } from '../trust/index.js';
import { ActionLedger } from './action-ledger.js';
import { captureState, restoreState } from './durability.js';
import { heartbeatPath } from './heartbeat-path.js';
import { type Capture, Journal } from './journal.js';
import { journalOutputs } from './journal-outputs.js';
import { licenceAndTrustOperations } from './licence-trust-api.js';
import { SupervisorLicensing } from './licensing.js';
import { nodeBookKey } from './node-book.js';
import { nodeCommands } from './node-commands.js';
import { nodeOperations } from './node-operations.js';
import { resolveOptions } from './options.js';
import { SupervisorOutputs } from './outputs.js';
import { policyOperations } from './policy-operations.js';
import { type ShardHost, type SupervisorInternals, shardOperations } from './shard-host.js';
import { nodeViews } from './snapshot.js';
import { stopBatchSize, supervisorNodeBook } from './supervisor-node-book.js';
import { TickBook } from './tick-book.js';
import { tickEmits, tickSteps } from './tick-steps.js';
import type { Supervisor, SupervisorOptions, TickSummary } from './types.js';

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
  return createShardHost(options);
}

/** createSupervisor, with what a distributed deployment adds (NATS). */
export function createShardHost(
  options: SupervisorOptions = {},
  internals: SupervisorInternals = {},
): ShardHost {
  const config = resolveOptions(options);
  const { clock } = config;
  // Loaded first: a corrupt state file stops the start before anything else happens (and
  // lets go of the directory's lock, so that a corrected start can take it).
  let saved: ReturnType<StateStore['load']>;
  try {
    saved = config.storage.stateStore?.load();
  } catch (error) {
    config.storage.release();
    throw error;
  }
  const boots = (saved?.boots ?? 0) + 1;
  const store = new TelemetryStore<NodeActorRef>(config.detector, boots);
  // Marks are saved once a tick only where a store can take them without a whole save; there,
  // restored nodes wait for a heartbeat carrying this boot (see restoreState).
  store.trackMarks = config.storage.stateStore?.saveMarks !== undefined;
  const outputs = new SupervisorOutputs(config.logger);
  const streaks = new OverloadStreaks();
  const governance = new GovernanceEngine(config.policy, { ruleBudgetMs: config.ruleBudgetMs });
  const safety = new SafetyGuard(config.safety);
  const licensing = new SupervisorLicensing(
    config.licensing,
    config.storage.stateStore,
    config.logger.child({ component: 'licensing' }),
  );
  const storageLog = config.logger.child({ component: 'storage' });
  const journal = new Journal(
    config.storage.stateStore,
    config.storage.auditLog,
    clock,
    storageLog,
    {
      afterSave: () => licensing.saved(),
    },
  );
  const durableParts = { store, safety, governance, clock, licensing };
  const capture: Capture = (nodeIds) => captureState(durableParts, boots, nodeIds);
  // A store that saves changes alone is told of a node's new agent incarnation (its epoch):
  // nothing else marks the node changed, and its marks are not saved on their own.
  if (config.storage.stateStore?.saveChanges !== undefined && !store.trackMarks) {
    store.epochMoved = (nodeId) => journal.changed(nodeId);
  }
  const ledger = new ActionLedger(
    (record) => outputs.action(record),
    config.onAction,
    config.hooks,
    clock,
    // With durable state, action ids name the boot too, so no id repeats across restarts.
    journal.enabled ? `action-${boots}.` : 'action-',
  );
  const recorder =
    config.record === undefined
      ? undefined
      : new TraceRecorder(
          config.record,
          { tickMs: config.tickMs, heartbeatTimeoutMs: config.heartbeatTimeoutMs },
          config.logger.child({ component: 'record' }),
        );
  const flaps = new FlapCounter(config.flapping);
  const trust = new TrustBook(config.trust, store);
  const trends =
    config.predictive === undefined
      ? undefined
      : new LoadTrends(config.predictive, config.tickMs, config.overload.high);
  const book = new TickBook(config, outputs, clock);

  const tickParts = {
    config,
    clock,
    store,
    book,
    streaks,
    flaps,
    trends,
    governance,
    licensing,
    safety,
    ledger,
    trust,
    outputs,
    journal,
    capture,
    peers: internals.peers,
  };
  const machine = supervisorMachine.provide({
    actors: tickSteps(tickParts),
    actions: tickEmits(tickParts),
  });

  const actor = createActor(machine, {
    // Named, so inspection shows `supervisor` rather than a session id.
    id: 'supervisor',
    input: { tickMs: config.tickMs },
    clock,
    ...(config.inspect === undefined ? {} : { inspect: config.inspect }),
  });
  actor.start();
  internals.expose?.(machine, actor);
  const nodeActors = actor.getSnapshot().context.nodes;
  let stopped = false;
  const nodes = supervisorNodeBook({
    store,
    nodeActors,
    send: (event) => actor.send(event),
    streaks,
    flaps,
    safety,
    governance,
    trust,
    ledger,
    trends,
    licences: licensing.book,
  });
  journalOutputs(outputs, journal, licensing);
  if (journal.enabled) {
    const restored =
      saved === undefined
        ? { nodes: 0, droppedExemptions: 0 }
        : restoreState(saved, {
            ...durableParts,
            send: (event) => actor.send(event),
            nodeActors,
            log: storageLog,
            resync: store.trackMarks,
          });
    journal.record('start', undefined, {
      boots,
      ...restored,
      policyVersion: governance.policy.version,
    });
    journal.changed();
    journal.commit(capture);
  }

  // Operator commands are saved before they return: what an operator was told happened did.
  // While storage is degraded they are refused before `run` changes anything; the one whose own
  // write fails throws too, since its change is not durable (the retry saves it later).
  // `nodesOnly`: the command changes nodes alone, each marked changed where it changes (its
  // admission, its transition), so the commit saves those nodes, not the whole state.
  function durably<T>(operation: string, run: () => T, nodesOnly = false): T {
    journal.health.assertWritable(operation);
    let result: T;
    try {
      result = run();
    } finally {
      if (!nodesOnly) journal.changed();
      journal.commit(capture);
    }
    if (journal.health.degraded) throw journal.health.refusal(operation, true);
    return result;
  }

  function assertRunning(operation: string): void {
    if (stopped) throw new SupervisorStoppedError(operation);
  }
  const operations = nodeOperations({
    config,
    store,
    outputs,
    governance,
    book,
    actor,
    assertRunning,
    licensing,
  });
  const { view, existing } = operations;

  const licenceAndTrust = licenceAndTrustOperations({
    config,
    store,
    trust,
    licensing,
    journal,
    existing,
    assertRunning,
    durably,
  });
  const { heartbeats, heartbeat } = heartbeatPath({
    store,
    trust,
    clock,
    boot: boots,
    rate: config.heartbeatRate,
    licence: licensing.book === undefined ? undefined : (id, at) => licensing.view(id, at),
    stopped: () => stopped,
    taken:
      recorder === undefined
        ? undefined
        : (beat, at, record) => recorder.heartbeat(beat, at, record),
  });

  return {
    start() {
      assertRunning('start');
      book.start(clock.now());
      actor.send({ type: 'START' });
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      book.stop();
      journal.record('stop', undefined, { boots });
      journal.saveMarks(store);
      // The lock goes once the last write is done (or has failed): the next holder reads it all.
      const closing = journal.close(capture).finally(() => config.storage.release());
      // Awaited below; a last write failing meanwhile must not count as unhandled.
      closing.catch(() => {});
      const nodeIds = [...nodeActors.keys()];
      for (let i = 0; i < nodeIds.length; i += stopBatchSize) {
        actor.send({ type: 'NODES.STOP', nodeIds: nodeIds.slice(i, i + stopBatchSize) });
      }
      actor.send({ type: 'STOP' });
      actor.stop();
      // Hooks already running finish (each within its timeout) and their outcome is emitted.
      await ledger.settled();
      outputs.complete();
      licensing.complete();
      await closing;
      await recorder?.close();
    },

    durable() {
      return journal.durable();
    },

    storage() {
      return journal.health.status();
    },

    ...shardOperations({
      store,
      safety,
      governance,
      licensing,
      clock,
      journal,
      send: (event) => actor.send(event),
      nodeActors,
      book: nodes,
      log: storageLog,
      boots,
      commit: () => {
        journal.changed();
        journal.commit(capture);
      },
      capture,
    }),

    heartbeat,
    heartbeats,

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

    ...nodeCommands({ operations, nodes, outputs, journal, clock, durably, recorder }),

    ...licenceAndTrust,

    ...policyOperations({
      governance,
      safety,
      outputs,
      journal,
      clock,
      existing,
      assertRunning,
      durably,
      recorder,
    }),

    [nodeBookKey]: nodes,
    ticks$: outputs.ticks.asObservable(),
    transitions$: outputs.transitions.asObservable(),
    reports$: outputs.reports.asObservable(),
    actions$: outputs.actions.asObservable(),
    admissions$: outputs.admissions.asObservable(),
    fleet$: outputs.fleet.asObservable(),
    licences$: licensing.events.asObservable(),
  };
}
