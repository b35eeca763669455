import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { type Logger, pino } from 'pino';
import {
  createSupervisor,
  type Heartbeat,
  type NodeRegistration,
  type NodeSnapshot,
  type Supervisor,
} from 'wyneos';
import { ChurnFeed, type TickTimes, timeTicks } from '../churn.js';
import { fleetAt, generateFleet } from '../fleet.js';
import { LeanFleet } from '../lean.js';
import type { Derived, Figure, ScenarioResult } from '../measure.js';
import { quick } from '../mode.js';
import { ManualClock, type ReusableBeat, reusableBeats, tickOptions } from '../supervised-fleet.js';
import { trivialWyneosRules } from '../trivial-rules.js';
import {
  budgetRows,
  mean,
  printBudgets,
  registerBatch,
  type SizeFigures,
  type SupervisorFigures,
  tickFigure,
} from './core-budgets-table.js';

/** `WYNEOS_BENCH_SIZES=100000,300000,1000000` adds the larger fleets; 100,000 by default. */
const sizes: readonly number[] = quick
  ? [2_000]
  : (process.env.WYNEOS_BENCH_SIZES ?? '100000').split(',').map((s) => Number(s.trim()));
/** Heartbeats per `sup.heartbeats` call, once it exists (issue 16). */
const ingestBatch = 1_000;
const ingestPasses = 3;
const rules = 10;

/**
 * Issue 16's budgets, measured in one run: a tick of the supervisor under 1 % churn with the
 * default `info` logging (pino, synchronously to /dev/null) and silent, against the lean
 * reference (`bench/lean.ts`); the GC share of tick time; registration time; heap per node;
 * heartbeat ingest. Ten trivial rules (`bench/trivial-rules.ts`). Needs --expose-gc.
 */
export async function coreBudgets(): Promise<ScenarioResult | undefined> {
  const gc = globalThis.gc;
  if (gc === undefined) {
    console.log('\ncore-budgets: skipped, it needs --expose-gc (npm run bench does that)\n');
    return undefined;
  }
  const heapLimitGiB = getHeapStatistics().heap_size_limit / 2 ** 30;
  console.log(
    `\ncore-budgets: ${sizes.map((s) => s.toLocaleString('en-US')).join(', ')} nodes; ` +
      `heap limit ${heapLimitGiB.toFixed(1)} GiB; load before: ${load()}`,
  );
  const measured: SizeFigures[] = [];
  for (const size of sizes) {
    process.stderr.write(`  ${size.toLocaleString('en-US')} nodes...\n`);
    measured.push(await measureSize(size, gc));
  }
  console.log(`  load after: ${load()}`);
  const rows = budgetRows(measured);
  printBudgets(rows);

  const first = measured[0] as SizeFigures;
  const ratio = mean(first.info.ticks.samples) / mean(first.lean.ticks.samples);
  const figures: Figure[] = measured.flatMap((m) => [
    tickFigure(`supervisor tick, info, ${m.size}`, m.info.ticks.samples, m.size * rules),
    tickFigure(`supervisor tick, silent, ${m.size}`, m.silent.ticks.samples, m.size * rules),
    tickFigure(`lean tick, ${m.size}`, m.lean.ticks.samples, m.size * rules),
    tickFigure(`lean tick via closures, ${m.size}`, m.leanRules.ticks.samples, m.size * rules),
  ]);
  const derived: Derived[] = rows.map((r) => ({
    label: `${r.size.toLocaleString('en-US')} nodes, ${r.label}${r.budget ? ` (${r.budget.text}: ${r.met ? 'met' : 'missed'})` : ''}`,
    value: r.value,
    unit: r.unit,
  }));
  return {
    name: 'core-budgets',
    ratioOf: `supervisor tick (info logging) / lean reference tick, ${first.size} nodes`,
    figures,
    ratio,
    budget: { kind: 'at most', value: 3 },
    meets: rows.every((r) => r.met !== false),
    derived,
  };
}

async function measureSize(size: number, gc: () => void): Promise<SizeFigures> {
  const started = performance.now();
  const count = quick ? 2 : size <= 100_000 ? 20 : size <= 300_000 ? 10 : 5;
  let nodes: NodeSnapshot[] = generateFleet(size);
  const beats = reusableBeats(nodes, true);
  const registrations: NodeRegistration[] = nodes.map((n) => ({
    id: n.id,
    labels: n.labels,
    ...(n.version === undefined ? {} : { version: n.version }),
  }));
  const lowMark = tickOptions.overload.low;
  const feeds = () => new ChurnFeed(beats, nodes, lowMark);

  const lean = await leanRun(size, count, registrations, feeds(), gc, false);
  const leanRules = await leanRun(size, count, registrations, feeds(), gc, true);
  const silent = await supervisorRun(pino({ level: 'silent' }), {
    registrations,
    beats,
    feed: feeds(),
    count,
    gc,
  });
  const destination = pino.destination('/dev/null');
  const info = await supervisorRun(pino({ name: 'wyneos', level: 'info' }, destination), {
    registrations,
    beats,
    feed: feeds(),
    count,
  });
  destination.end();
  nodes = [];
  const expected = size / 100;
  for (const [side, ticks] of [
    ['info', info.ticks],
    ['silent', silent.ticks],
    ['lean', lean.ticks],
    ['lean through rules', leanRules.ticks],
  ] as const) {
    if (ticks.transitions.some((t) => t !== expected)) {
      throw new Error(`${side}, ${size} nodes: ${ticks.transitions.join()} transitions a tick`);
    }
  }
  gc();
  return {
    size,
    info,
    silent,
    lean,
    leanRules,
    wallS: (performance.now() - started) / 1000,
    maxRssGiB: process.resourceUsage().maxRSS / 2 ** 20,
  };
}

function leanRun(
  size: number,
  count: number,
  registrations: readonly NodeRegistration[],
  feed: ChurnFeed,
  gc: () => void,
  throughRules: boolean,
): Promise<{ ticks: TickTimes; heapPerNode: number }> {
  gc();
  const before = process.memoryUsage();
  const options = throughRules ? { ...tickOptions, rules: trivialWyneosRules } : tickOptions;
  const lean = new LeanFleet(options, size);
  for (const r of registrations) lean.register(r.id, fleetAt);
  let at = fleetAt;
  const send = (b: ReusableBeat) => lean.heartbeat(b.nodeId, b.seq, b.load, b.metrics, at);
  const step = () => {
    feed.feed(send);
    at += tickOptions.tickMs;
  };
  step();
  lean.tick(at);
  gc();
  // Typed arrays live outside the JS heap: their bytes are counted on their own.
  const after = process.memoryUsage();
  const heapPerNode =
    (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / size;
  return timeTicks(count, step, () => lean.tick(at).transitions).then((ticks) => ({
    ticks,
    heapPerNode,
  }));
}

interface RunInput {
  readonly registrations: readonly NodeRegistration[];
  readonly beats: readonly ReusableBeat[];
  readonly feed: ChurnFeed;
  readonly count: number;
  /** Given: heap per node and ingest are measured too. */
  readonly gc?: () => void;
}

async function supervisorRun(logger: Logger, input: RunInput): Promise<SupervisorFigures> {
  const { registrations, beats, feed, count, gc } = input;
  const clock = new ManualClock(fleetAt);
  const sup = createSupervisor({
    ...tickOptions,
    clock,
    logger,
    rules: trivialWyneosRules,
    safety: { maxIsolatedFraction: 1, partitionFraction: 1 },
  });
  sup.start();
  gc?.();
  gc?.();
  const before = process.memoryUsage().heapUsed;

  const registerStart = performance.now();
  for (let i = 0; i < registrations.length; i += registerBatch) {
    sup.registerMany(registrations.slice(i, i + registerBatch));
  }
  const registerMs = performance.now() - registerStart;

  const send = (beat: ReusableBeat) => sup.heartbeat(beat);
  const step = () => {
    feed.feed(send);
    clock.at += tickOptions.tickMs;
  };
  step();
  sup.tick();
  let heapPerNode: number | undefined;
  if (gc !== undefined) {
    gc();
    gc();
    heapPerNode = (process.memoryUsage().heapUsed - before) / registrations.length;
  }
  const ticks = await timeTicks(count, step, () => sup.tick().transitions);
  const ingestPerSecond = gc === undefined ? undefined : ingest(sup, beats);
  await sup.stop();
  return { registerMs, heapPerNode, ticks, ingestPerSecond, ingestPath: ingestPath(sup) };
}

/** The fastest in-process path: `sup.heartbeats` in batches when it exists, else `sup.heartbeat`. */
const ingestPath = (sup: Supervisor): string =>
  'heartbeats' in sup ? `sup.heartbeats, batches of ${ingestBatch}` : 'sup.heartbeat in a loop';

/** Median heartbeats per second over a few passes of one heartbeat per node. */
function ingest(sup: Supervisor, beats: readonly ReusableBeat[]): number {
  const many = (sup as { heartbeats?: (batch: readonly Heartbeat[]) => unknown }).heartbeats;
  const batches: ReusableBeat[][] = [];
  for (let i = 0; i < beats.length; i += ingestBatch) batches.push(beats.slice(i, i + ingestBatch));
  const rates: number[] = [];
  for (let pass = 0; pass < ingestPasses; pass++) {
    const seq = 1_000_000 + pass;
    const start = performance.now();
    if (many !== undefined) {
      for (const batch of batches) {
        for (const beat of batch) beat.seq = seq;
        many.call(sup, batch);
      }
    } else {
      for (const beat of beats) {
        beat.seq = seq;
        sup.heartbeat(beat);
      }
    }
    rates.push(beats.length / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

function load(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
