import { pino } from 'pino';
import { SimulatedClock } from 'xstate';
import { InvalidArgumentError, WyneosError } from '../errors.js';
import type { SupervisorOptions } from '../supervisor/index.js';
import { createSupervisor, defaultOptions } from '../supervisor/index.js';
import type { Heartbeat } from '../telemetry/index.js';
import type { Labels } from '../types.js';
import { defaultIdentity } from './default-policy.js';
import { type DetectionTerms, type Fault, type ResolvedFault, resolveFault } from './faults.js';
import type { SimulatedFleet, SimulatedFleetOptions } from './fleet-types.js';
import { GroundTruth } from './ground-truth.js';
import { startFault } from './injector.js';
import { defaultInvariants, type InvariantContext, type InvariantMonitor } from './invariants.js';
import { SimulatedLicences } from './licences.js';
import { type Delivery, SimulatedNetwork } from './network.js';
import { observeRun } from './observe.js';
import { SeededRandom } from './random.js';
import { RunRecorder } from './recorder.js';
import type { SimulationResult } from './result.js';
import { SimNode } from './sim-node.js';

export type { SimulatedFleet, SimulatedFleetOptions, SimulationProgress } from './fleet-types.js';

/**
 * Creates a fleet of simulated nodes beating into a real supervisor on a simulated clock, with
 * faults injected on schedule. Every random choice comes from `seed`.
 *
 * @example
 * const fleet = createSimulatedFleet({ nodes: 200, seed: 7, faults: [{ kind: 'crash', at: 10_000, nodes: 3 }] });
 * const result = await fleet.run(120_000);
 * expect(result.ok).toBe(true);
 */
export function createSimulatedFleet(options: SimulatedFleetOptions = {}): SimulatedFleet {
  const nodeCount = wholeNumber(options.nodes ?? 100, 'nodes', 1);
  const seed = wholeNumber(options.seed ?? 1, 'seed', -(2 ** 31));
  const tickMs = wholeNumber(options.tickMs ?? defaultOptions.tickMs, 'tickMs', 1);
  const intervalMs = wholeNumber(options.heartbeatIntervalMs ?? tickMs, 'heartbeatIntervalMs', 1);
  const supervisorOptions = options.supervisor ?? {};
  const random = new SeededRandom(seed);
  const clock = new SimulatedClock();
  const licensed =
    options.licensing ?? (options.faults ?? []).some((f) => f.kind?.startsWith('licence-'));
  const licences = licensed ? new SimulatedLicences() : undefined;
  const supervisor = createSupervisor({
    logger: pino({ level: 'silent' }),
    ...supervisorOptions,
    ...(licences === undefined
      ? {}
      : {
          licensing: {
            ...supervisorOptions.licensing,
            // The fleet's own key first, beside any the caller trusts as well.
            keys: [licences.publicJwk, ...(supervisorOptions.licensing?.keys ?? [])],
          },
        }),
    tickMs,
    clock,
  });
  const terms: DetectionTerms & { detector: 'timeout' | 'phi'; maxIsolatedFraction: number } = {
    tickMs,
    heartbeatIntervalMs: intervalMs,
    heartbeatTimeoutMs: supervisorOptions.heartbeatTimeoutMs ?? defaultOptions.heartbeatTimeoutMs,
    overload: { ...defaultOptions.overload, ...supervisorOptions.overload },
    detector: detectorKind(supervisorOptions.detector),
    maxIsolatedFraction:
      supervisorOptions.safety?.maxIsolatedFraction ?? defaultOptions.safety.maxIsolatedFraction,
  };
  const graceMs = terms.heartbeatTimeoutMs + intervalMs + (terms.overload.ticks + 2) * tickMs;
  const truth = new GroundTruth(graceMs);
  const baseDelayMs = Math.max(1, Math.min(50, Math.floor(intervalMs / 20)));

  const width = String(nodeCount).length;
  const identityOf = options.identity ?? defaultIdentity;
  const nodes: SimNode[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const identity = identityOf(i);
    const drift = 1 + random.between(-0.01, 0.01);
    nodes.push(
      new SimNode(
        `node-${String(i + 1).padStart(Math.max(4, width), '0')}`,
        Math.max(1, Math.round(intervalMs * drift)),
        random.between(0.2, 0.6),
        random.between(0.3, 0.7),
        {
          labels: identity.labels ?? defaultIdentity(i).labels,
          version: identity.version ?? '1.4.2',
        },
        random.int(1, intervalMs),
      ),
    );
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const faults: Array<ResolvedFault & { targets: string[] }> = [];

  const context: InvariantContext = {
    tickMs,
    heartbeatTimeoutMs: terms.heartbeatTimeoutMs,
    detector: terms.detector,
    maxIsolatedFraction: terms.maxIsolatedFraction,
    nodeIds: function* () {
      for (const node of nodes) if (node.registered) yield node.id;
    },
    stateOf: (id) => byId.get(id)?.state,
    lastAcceptedAt: (id) => {
      const node = byId.get(id);
      return node?.registered === true ? node.lastAcceptedAt : undefined;
    },
    pausedUntil: () => network.pausedUntil,
  };
  const checked = (options.invariants ?? defaultInvariants).map((invariant) => ({
    invariant,
    applicable: invariant.applies?.(context) ?? true,
  }));
  const recorder = new RunRecorder(checked);
  const monitors: InvariantMonitor[] = checked
    .filter((c) => c.applicable)
    .map((c) => c.invariant.monitor(context, (v) => recorder.violated(c.invariant.name, v)));

  observeRun(supervisor, { byId, recorder, truth, monitors });

  const register = (node: SimNode) => {
    node.lastAcceptedAt = clock.now();
    try {
      const now = clock.now();
      node.state = supervisor.register({
        id: node.id,
        labels: node.labels,
        version: node.version,
        ...(licences === undefined
          ? {}
          : { licence: licences.issue(node.id, now - 1000, now + 365 * 86_400_000) }),
      }).state;
      node.registered = true;
    } catch (error) {
      if (!(error instanceof WyneosError)) throw error;
      node.registered = false;
      node.state = undefined;
    }
  };
  const redeploy = (node: SimNode, identity: { labels: Labels; version: string }) => {
    if (node.registered) {
      supervisor.deregister(node.id);
      for (const m of monitors) m.forget?.(node.id);
    }
    node.labels = identity.labels;
    node.version = identity.version;
    register(node);
  };

  // JWT times are whole seconds: a lapse shorter than one could not be signed as still valid.
  const licenceFaults = {
    renewLicence: (node: SimNode, until: number) => {
      const now = clock.now();
      if (!node.registered || licences === undefined) return;
      const token = licences.issue(node.id, now - 1000, Math.max(until, now + 1000));
      supervisor.renewLicence(node.id, token);
    },
    revokeLicence: (node: SimNode) => {
      const id = licences?.held.get(node.id);
      if (node.registered && id !== undefined) supervisor.revoke(id, 'simulated revocation');
    },
  };

  const addFault = (fault: Fault) => {
    const index = faults.length;
    const resolved = resolveFault(fault, index, terms);
    if (Array.isArray(fault.nodes)) {
      for (const [i, id] of fault.nodes.entries()) {
        if (!byId.has(id))
          throw new InvalidArgumentError(
            `faults[${index}].nodes[${i}]`,
            `no node ${JSON.stringify(id)} in the fleet`,
          );
      }
    }
    if (resolved.at < network.now) {
      throw new InvalidArgumentError(
        `faults[${index}].at`,
        `${resolved.at} is in the past (now ${network.now})`,
      );
    }
    if (resolved.kind.startsWith('licence-') && licences === undefined) {
      throw new InvalidArgumentError(
        `faults[${index}].kind`,
        `${resolved.kind} needs a licensed fleet: give licensing: true, or the fault up front`,
      );
    }
    const entry = { ...resolved, targets: [] as string[] };
    faults.push(entry);
    network.schedule(resolved.at, (now) => {
      const injection = {
        now,
        random,
        nodes,
        byId,
        truth,
        schedule: (at: number, run: (now: number) => void) => network.schedule(at, run),
        redeploy,
        pause: (until: number) => network.pause(until),
        ...licenceFaults,
      };
      entry.targets.push(...startFault(resolved, index, injection));
    });
  };

  const deliver = (d: Delivery) => {
    const heartbeat: Heartbeat = d.bad
      ? malformed(d, random)
      : { nodeId: d.node.id, seq: d.seq, load: d.load, metrics: { mem: d.node.baseMem } };
    try {
      supervisor.heartbeat(heartbeat);
      d.node.lastAcceptedAt = clock.now();
      recorder.accepted++;
    } catch (error) {
      if (!(error instanceof WyneosError)) throw error;
      recorder.rejected(error.code);
      if (error.code === 'WYNEOS_ERR_INVALID_HEARTBEAT')
        truth.observe(d.node.id, 'rejected', clock.now());
    }
  };

  const network = new SimulatedNetwork(
    clock,
    slotSize(tickMs),
    baseDelayMs,
    random,
    recorder,
    deliver,
  );
  const advance = (ms: number) => {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new InvalidArgumentError('ms', `must be a finite number >= 0 (got ${ms})`);
    network.advance(ms);
  };

  for (const node of nodes) {
    register(node);
    network.startSending(node);
  }
  for (const fault of options.faults ?? []) addFault(fault);
  supervisor.start();

  const result = (): SimulationResult =>
    recorder.result({
      seed,
      nodes: nodeCount,
      tickMs,
      heartbeatIntervalMs: intervalMs,
      heartbeatTimeoutMs: terms.heartbeatTimeoutMs,
      detector: terms.detector,
      durationMs: network.now,
      faults,
      incidents: truth.incidents(network.now),
      falsePositives: truth.falsePositiveList(),
    });

  return {
    supervisor,
    clock,
    nodeIds: nodes.map((n) => n.id),
    now: () => network.now,
    advance,
    inject: addFault,
    result,
    async run(durationMs, runOptions = {}) {
      const end = network.now + wholeNumber(durationMs, 'durationMs', 0);
      // Slices of simulated time, with a yield between them so a progress display can draw.
      const sliceMs = Math.max(tickMs, Math.ceil(durationMs / 200 / tickMs) * tickMs);
      while (network.now < end) {
        advance(Math.min(sliceMs, end - network.now));
        runOptions.onProgress?.({
          at: network.now,
          durationMs,
          ticks: recorder.ticks,
          states: recorder.states(),
          actions: recorder.appliedCount(),
        });
        await new Promise((resolve) => setImmediate(resolve));
      }
      // A pause still going ends with the run: its result is what the supervisor says once awake.
      network.endPause();
      return result();
    },
    stop: () => supervisor.stop(),
  };
}

/** Runs a whole simulation: creates the fleet, runs it for `durationMs`, stops it. */
export async function simulate(
  options: SimulatedFleetOptions & { readonly durationMs: number },
): Promise<SimulationResult> {
  const { durationMs, ...fleetOptions } = options;
  const fleet = createSimulatedFleet(fleetOptions);
  try {
    return await fleet.run(durationMs);
  } finally {
    await fleet.stop();
  }
}

/** A heartbeat the supervisor must refuse: each kind of garbage a broken agent might send. */
function malformed(d: Delivery, random: SeededRandom): Heartbeat {
  const garbage: unknown[] = [
    { nodeId: d.node.id, seq: d.seq, load: 1 + d.load },
    { nodeId: d.node.id, seq: -d.seq, load: d.load },
    { nodeId: d.node.id, seq: d.seq, load: String(d.load) },
    { nodeId: d.node.id, seq: d.seq, load: d.load, metrics: { mem: 'high' } },
    { nodeId: d.node.id, load: d.load },
  ];
  return garbage[random.int(0, garbage.length - 1)] as Heartbeat;
}

function detectorKind(detector: SupervisorOptions['detector']): 'timeout' | 'phi' {
  if (detector === undefined || detector === 'timeout') return 'timeout';
  return detector === 'phi' || (typeof detector === 'object' && detector.kind === 'phi')
    ? 'phi'
    : 'timeout';
}

/** The largest divisor of the tick of at most a tenth of it: ticks fall on slot edges. */
function slotSize(tickMs: number): number {
  for (let size = Math.max(1, Math.floor(tickMs / 10)); size > 1; size--) {
    if (tickMs % size === 0) return size;
  }
  return 1;
}

function wholeNumber(value: number, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(
      name,
      `must be a whole number of at least ${min} (got ${String(value)})`,
    );
  }
  return value;
}
