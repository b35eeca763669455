import { writeFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { loadPolicyFile } from '../governance/index.js';
import {
  createSimulatedFleet,
  defaultInvariants,
  defaultSimulationPolicy,
  expandFaultMix,
  formatDuration,
  loadInvariantModule,
  parseFaultMix,
  SeededRandom,
  type SimulationProgress,
  type SimulationResult,
  summaryLines,
} from '../simulation/index.js';

export interface SimulateFlags {
  readonly nodes: number;
  readonly durationMs: number;
  readonly tickMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly seed: number;
  /** A fault mix, like `crash=0.02,overload=0.05,partition=0.6@30m+2m`. */
  readonly faults: string;
  readonly detector: 'timeout' | 'phi';
  readonly policy?: string;
  /** A module of the user's own invariants, checked beside the built-in ones. */
  readonly invariants?: string;
  readonly json?: string;
  /** A directory to record the fleet's inputs to, as `serve --record` does. */
  readonly record?: string;
}

/** The scenario `npm start` runs: every kind of fault, and a partition the safety guard must ride out. */
export const defaultFaultMix =
  'crash=0.01+5m,crash=0.002,overload=0.02,flap=0.003,jitter=0.02,slowNode=0.005,bad-heartbeat=0.002,non-compliant=0.002,partition=0.6@30m+2m';

/** Where progress goes: a progress bar on a terminal, plain lines otherwise, or nowhere. */
export type ProgressStyle = 'bar' | 'lines' | 'none';

/**
 * `wyneos simulate`: a seeded fleet with injected faults under a real supervisor, with live
 * progress and a summary at the end. Writes the result as JSON when asked; the same seed gives
 * the same bytes.
 */
export async function runSimulation(
  flags: SimulateFlags,
  io: { readonly write: (line: string) => void; readonly progress: ProgressStyle },
): Promise<SimulationResult> {
  const policy =
    flags.policy === undefined ? defaultSimulationPolicy() : await loadPolicyFile(flags.policy);
  const extra = flags.invariants === undefined ? [] : await loadInvariantModule(flags.invariants);
  const fleet = createSimulatedFleet({
    invariants: [...defaultInvariants, ...extra],
    nodes: flags.nodes,
    seed: flags.seed,
    tickMs: flags.tickMs,
    supervisor: {
      policy,
      heartbeatTimeoutMs: flags.heartbeatTimeoutMs,
      detector: flags.detector,
      ...(flags.record === undefined ? {} : { record: { dir: flags.record } }),
    },
  });
  // The mix has its own generator, so changing it does not shift the fleet's random choices.
  const faults = expandFaultMix(
    parseFaultMix(flags.faults),
    { nodeIds: fleet.nodeIds, durationMs: flags.durationMs },
    new SeededRandom(flags.seed ^ 0x5eed),
  );
  for (const fault of faults) fleet.inject(fault);

  io.write(
    `wyneos simulate: ${flags.nodes} nodes, ${formatDuration(flags.durationMs)} of ${formatDuration(flags.tickMs)} ticks, heartbeat timeout ${formatDuration(flags.heartbeatTimeoutMs)}, ${flags.detector} detector, seed ${flags.seed}`,
  );
  io.write(
    `policy ${policy.version} (${policy.rules.length} rules), ${faults.length} faults: ${flags.faults || 'none'}`,
  );
  io.write('');

  const started = performance.now();
  const progress = progressReporter(io, flags.durationMs);
  let result: SimulationResult;
  try {
    result = await fleet.run(flags.durationMs, { onProgress: progress.update });
  } finally {
    progress.stop();
    await fleet.stop();
  }
  const wallS = (performance.now() - started) / 1000;
  if (io.progress === 'lines') io.write('');

  for (const line of summaryLines(result)) io.write(line);
  io.write('');
  io.write(
    `simulated ${formatDuration(flags.durationMs)} in ${wallS.toFixed(1)} s (${Math.round(flags.durationMs / 1000 / wallS)}× real time)`,
  );
  if (flags.record !== undefined) io.write(`trace recorded to ${flags.record}`);
  if (flags.json !== undefined) {
    await writeFile(flags.json, `${JSON.stringify(result, null, 2)}\n`);
    io.write(`result written to ${flags.json}`);
  }
  if (!result.ok) io.write('an invariant broke: exit code 1');
  return result;
}

function progressReporter(
  io: { readonly write: (line: string) => void; readonly progress: ProgressStyle },
  durationMs: number,
) {
  const payload = (p: SimulationProgress) => ({
    simulated: formatDuration(p.at),
    total: formatDuration(durationMs),
    ...p.states,
    actions: p.actions,
  });
  if (io.progress === 'bar') {
    const bar = new cliProgress.SingleBar(
      {
        format:
          '{bar} {percentage}% | {simulated} of {total} | online {online} overloaded {overloaded} isolated {isolated} offline {offline} | actions {actions}',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(
      durationMs,
      0,
      payload({ at: 0, durationMs, ticks: 0, actions: 0, states: emptyStates }),
    );
    return {
      update: (p: SimulationProgress) => bar.update(p.at, payload(p)),
      stop: () => bar.stop(),
    };
  }
  if (io.progress === 'lines') {
    let nextShare = 0.1;
    return {
      update: (p: SimulationProgress) => {
        if (p.at < durationMs * nextShare - 1e-9) return;
        while (p.at >= durationMs * nextShare - 1e-9) nextShare += 0.1;
        const s = payload(p);
        io.write(
          `[${s.simulated.padStart(6)}] online ${s.online} overloaded ${s.overloaded} isolated ${s.isolated} offline ${s.offline}, actions ${s.actions}`,
        );
      },
      stop: () => {},
    };
  }
  return { update: () => {}, stop: () => {} };
}

const emptyStates = { online: 0, overloaded: 0, isolated: 0, offline: 0 };
