/**
 * Heartbeat ingest without and with `record`, as the `record-overhead` scenario runs it, in
 * `WYNEOS_BENCH_PAIRS` pairs (one of each, one right after the other): 100,000 nodes (or
 * `WYNEOS_BENCH_SIZES`' first size) with four metrics, `WYNEOS_BENCH_PASSES` rounds, the event
 * loop free between rounds. `WYNEOS_RECORD=only` runs the recorded side alone. Prints each
 * pair's ratio and the time spent in garbage collection during the ingest loops; run it under
 * the profiler to see where a recorded heartbeat goes:
 *
 *   WYNEOS_RECORD=only node --cpu-prof --cpu-prof-dir=<dir> --import tsx bench/profile-record.ts
 *   npx tsx scripts/cpuprofile-top.ts <dir>/<file>.cpuprofile
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { fleetAt, generateFleet } from './fleet.js';
import { mainThreadCpuSeconds } from './process-stats.js';
import { ManualClock, reusableBeats, wyneosFleet } from './supervised-fleet.js';

const size = Number((process.env.WYNEOS_BENCH_SIZES ?? '100000').split(',')[0]);
const rounds = Number(process.env.WYNEOS_BENCH_PASSES ?? '20');
const pairs = Number(process.env.WYNEOS_BENCH_PAIRS ?? '3');
const only = process.env.WYNEOS_RECORD === 'only';
const nodes = generateFleet(size);

// Garbage collection inside the ingest loops (entries arrive later, so by their start time).
const loops: Array<[number, number]> = [];
const collections: Array<[number, number, number]> = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    collections.push([entry.startTime, entry.duration, kind]);
  }
}).observe({ entryTypes: ['gc'] });
// By kind: 1 minor (scavenge), 4 major, 8 incremental marking, 16 weak callbacks.
const gcInLoops = () => {
  const inLoops = collections.filter(([at]) => loops.some(([from, to]) => at >= from && at < to));
  const byKind = new Map<number, [number, number]>();
  for (const [, ms, kind] of inLoops) {
    const [count, sum] = byKind.get(kind) ?? [0, 0];
    byKind.set(kind, [count + 1, sum + ms]);
  }
  if (process.env.WYNEOS_GC_KINDS)
    console.log(
      [...byKind].map(([k, [c, ms]]) => `kind ${k}: ${c} × = ${ms.toFixed(0)} ms`).join('; '),
    );
  return inLoops.reduce((sum, [, ms]) => sum + ms, 0);
};

async function ingest(record: boolean): Promise<Ingest> {
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-profile-record-'));
  const clock = new ManualClock(fleetAt);
  const sup = wyneosFleet(nodes, clock, record ? { record: { dir } } : {});
  const beats = reusableBeats(nodes, true);
  loops.length = 0;
  const times: number[] = [];
  const started = performance.now();
  let looping = 0;
  let cpu = 0;
  for (let seq = 1; seq <= rounds; seq++) {
    const round = performance.now();
    const cpuBefore = mainThreadCpuSeconds() * 1000;
    for (const beat of beats) {
      beat.seq = seq;
      sup.heartbeat(beat);
    }
    const end = performance.now();
    cpu += mainThreadCpuSeconds() * 1000 - cpuBefore;
    loops.push([round, end]);
    times.push(end - round);
    looping += end - round;
    clock.at += 1000;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await sup.stop();
  const wall = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const gc = gcInLoops();
  // The median round: a noisy machine's slowest rounds left out.
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
  rmSync(dir, { recursive: true, force: true });
  const count = rounds * nodes.length;
  return {
    loop: count / looping / 1e3,
    wall: count / wall / 1e3,
    gc,
    cpu: count / cpu / 1e3,
    median: nodes.length / median / 1e3,
  };
}

interface Ingest {
  readonly loop: number;
  readonly median: number;
  readonly wall: number;
  readonly gc: number;
  readonly cpu: number;
}

const show = (r: Ingest) =>
  `${r.loop.toFixed(2)} M/s (by main-thread CPU ${r.cpu.toFixed(2)}, median round ${r.median.toFixed(2)}, GC in loops ${r.gc.toFixed(0)} ms), until on disk ${r.wall.toFixed(2)} M/s`;
for (let pair = 0; pair < pairs; pair++) {
  if (only) {
    console.log(`recording ${show(await ingest(true))}`);
    continue;
  }
  // WYNEOS_RECORD=none: both sides without recording, to see what order alone does.
  const plain = await ingest(false);
  const recorded = await ingest(process.env.WYNEOS_RECORD !== 'none');
  console.log(
    `ratio ${(recorded.loop / plain.loop).toFixed(2)} (median rounds ${(recorded.median / plain.median).toFixed(2)}, CPU ${(recorded.cpu / plain.cpu).toFixed(2)}): without ${show(plain)}; with ${show(recorded)}`,
  );
}
