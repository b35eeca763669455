import { pino } from 'pino';
import semver from 'semver';
import { SimulatedClock } from 'xstate';
import type { GovernanceReport } from '../governance/index.js';
import { defineRule } from '../governance/index.js';
import { createSupervisor } from '../supervisor/index.js';
import type { NodeState, RemediationActionType } from '../types.js';

export interface DemoOptions {
  /** How many nodes the demo fleet has (at least 18, so every scripted fault has a node). */
  readonly nodes: number;
  /** Simulated seconds to run. */
  readonly seconds: number;
  readonly tickMs: number;
  /** Where lines go. */
  readonly write: (line: string) => void;
}

export interface DemoResult {
  readonly ticks: number;
  readonly transitions: number;
  readonly actions: Readonly<Partial<Record<RemediationActionType, number>>>;
  readonly states: Readonly<Record<NodeState, number>>;
  readonly fleetCompliance: number;
}

const minimumVersion = '1.4.0';

/** What happens to whom, in simulated seconds. The rest of the fleet stays healthy. */
const script = {
  crashes: { node: 5, at: 10, recoversAt: 20 },
  memoryLeak: { node: 11, from: 30, perSecond: 0.02 },
  overloads: [
    { node: 9, from: 15, to: 45 },
    { node: 14, from: 25, to: 50 },
  ],
  dies: { node: 17, at: 20 },
  outdated: { node: 3, version: '1.2.0' },
  isolateOfflineAfterS: 10,
  shedLoadAfterS: 5,
};

/**
 * The main job on the embedded default: a small in-process fleet under a simulated clock, in
 * which nodes crash, overload and run old software, and a service that embeds a supervisor
 * reacts to what it decides. Prints what happens as it happens, then a summary.
 */
export function runDemo(options: DemoOptions): DemoResult {
  const { nodes: fleetSize, seconds, tickMs, write } = options;
  const clock = new SimulatedClock();
  const sup = createSupervisor({
    clock,
    tickMs,
    heartbeatTimeoutMs: 3 * tickMs,
    logger: pino({ level: 'silent' }),
    rules: [
      defineRule({
        id: 'min-version',
        description: `runs version ${minimumVersion} or newer`,
        evaluate: (n) => ({
          ok: n.version !== undefined && semver.gte(n.version, minimumVersion),
          message: `version ${n.version ?? 'unknown'} is older than ${minimumVersion}`,
        }),
      }),
      defineRule({
        id: 'memory',
        description: 'memory use stays under 90%',
        evaluate: (n) => ({
          ok: (n.metrics.mem ?? 0) < 0.9,
          message: `memory at ${Math.round((n.metrics.mem ?? 0) * 100)}%`,
        }),
      }),
    ],
  });

  const ids = Array.from({ length: fleetSize }, (_, i) => `node-${String(i + 1).padStart(2, '0')}`);
  const idOf = (n: number) => ids[n - 1] as string;
  const stamp = () => `[${(clock.now() / 1000).toFixed(1).padStart(6)}s]`;
  const counts = { transitions: 0, actions: {} as Partial<Record<RemediationActionType, number>> };
  const offlineSince = new Map<string, number>();
  const sheddingFrom = new Map<string, number>();
  let ticks = 0;
  let lastReport: GovernanceReport | null = null;

  write(
    `wyneos demo: ${fleetSize} nodes, tick ${tickMs} ms, heartbeat timeout ${3 * tickMs} ms, ${seconds} s of simulated time`,
  );
  write('');

  sup.transitions$.subscribe((t) => {
    counts.transitions++;
    write(`${stamp()} ${t.nodeId.padEnd(8)} ${`${t.from} → ${t.to}`.padEnd(24)} ${t.reason}`);
    if (t.to === 'offline') offlineSince.set(t.nodeId, t.at);
    else offlineSince.delete(t.nodeId);
  });
  // The embedding service's side: carry out what the supervisor decides.
  sup.actions$.subscribe((a) => {
    if (a.status !== 'proposed') return;
    counts.actions[a.type] = (counts.actions[a.type] ?? 0) + 1;
    const what = {
      'reduce-load': 'moving work away',
      isolate: 'draining it',
      reinstate: 'sending it work again',
      warn: 'telling its owner',
      recover: 'restarting it',
      propagate: 'telling its peers',
    }[a.type];
    write(`${stamp()}   ↳ action ${a.type} on ${a.nodeId}: ${what}`);
    if (a.type === 'reduce-load') sheddingFrom.set(a.nodeId, a.at);
  });
  sup.reports$.subscribe((report) => {
    ticks++;
    const before = new Set(lastReport?.results.map((r) => `${r.ruleId}|${r.nodeId}`));
    const now = new Set(report.results.map((r) => `${r.ruleId}|${r.nodeId}`));
    for (const r of report.results) {
      if (!before.has(`${r.ruleId}|${r.nodeId}`)) {
        write(`${stamp()} ${r.nodeId.padEnd(8)} rule ${r.ruleId} ${r.outcome}s: ${r.message}`);
      }
    }
    for (const key of before) {
      const [ruleId, nodeId] = key.split('|') as [string, string];
      if (!now.has(key)) write(`${stamp()} ${nodeId.padEnd(8)} rule ${ruleId} passes again`);
    }
    lastReport = report;
  });
  sup.ticks$.subscribe(() => {
    // An operator policy of the embedding service: isolate what stays offline too long.
    for (const [nodeId, since] of offlineSince) {
      if (clock.now() - since >= script.isolateOfflineAfterS * 1000) {
        sup.isolate(nodeId, `offline for ${script.isolateOfflineAfterS} s`);
      }
    }
  });

  sup.start();
  sup.registerMany(
    ids.map((id, i) => ({
      id,
      labels: { region: i % 2 === 0 ? 'eu' : 'us' },
      version: id === idOf(script.outdated.node) ? script.outdated.version : `1.4.${i % 3}`,
    })),
  );

  const seqs = new Map<string, number>();
  for (let second = 0; second < seconds; second++) {
    const t = second;
    ids.forEach((id, i) => {
      const load = loadOf(id, i, t, sheddingFrom.get(id));
      if (load === undefined) return;
      const seq = (seqs.get(id) ?? 0) + 1;
      seqs.set(id, seq);
      sup.heartbeat({ nodeId: id, seq, load, metrics: { mem: memoryOf(id, i, t) } });
    });
    for (let ms = 0; ms < 1000; ms += tickMs) clock.increment(Math.min(tickMs, 1000 - ms));
  }

  function loadOf(
    id: string,
    i: number,
    t: number,
    shedAt: number | undefined,
  ): number | undefined {
    const crash = script.crashes;
    if (id === idOf(crash.node) && t >= crash.at && t < crash.recoversAt) return undefined;
    if (id === idOf(script.dies.node) && t >= script.dies.at) return undefined;
    const base = 0.35 + 0.15 * Math.sin(t / 7 + i);
    const overload = script.overloads.find((o) => id === idOf(o.node) && t >= o.from && t < o.to);
    if (overload === undefined) return base;
    const shedding = shedAt !== undefined && t * 1000 - shedAt >= script.shedLoadAfterS * 1000;
    return shedding ? 0.5 : 0.97;
  }

  function memoryOf(id: string, i: number, t: number): number {
    const leak = script.memoryLeak;
    const leaked = id === idOf(leak.node) && t >= leak.from ? (t - leak.from) * leak.perSecond : 0;
    return Math.min(1, 0.4 + 0.1 * Math.abs(Math.sin(t / 9 + i)) + leaked);
  }

  const states = { online: 0, overloaded: 0, isolated: 0, offline: 0 };
  for (const node of sup.nodes()) states[node.state]++;
  const report = sup.report();
  const result: DemoResult = {
    ticks,
    transitions: counts.transitions,
    actions: counts.actions,
    states,
    fleetCompliance: report?.fleetCompliance ?? 1,
  };
  void sup.stop();

  write('');
  write('summary');
  write(
    `  ticks ${result.ticks}, transitions ${result.transitions}, actions: ${
      Object.entries(result.actions)
        .map(([type, n]) => `${type} ${n}`)
        .join(', ') || 'none'
    }`,
  );
  write(
    `  nodes now: ${Object.entries(states)
      .map(([state, n]) => `${state} ${n}`)
      .join(', ')}`,
  );
  const failing = report?.results.map((r) => `${r.ruleId} on ${r.nodeId}`) ?? [];
  write(
    `  compliance: ${Math.round(result.fleetCompliance * 100)}% of nodes pass every rule${
      failing.length > 0 ? ` (failing: ${failing.join(', ')})` : ''
    }`,
  );
  return result;
}
