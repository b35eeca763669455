/**
 * Heartbeat ingest alone, as core-budgets measures it: 100,000 nodes (or `WYNEOS_BENCH_SIZES`'
 * first size) with metrics, one heartbeat each per pass, through `sup.heartbeats` in batches of
 * 1,000 (or `sup.heartbeat` in a loop where that is missing). Prints heartbeats a second per
 * pass; run it under the profiler to see where a heartbeat goes:
 *
 *   node --cpu-prof --cpu-prof-dir=<dir> --import tsx bench/profile-ingest.ts
 *   npx tsx scripts/cpuprofile-top.ts <dir>/<file>.cpuprofile
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createSupervisor, type Heartbeat } from 'wyneos';
import { fleetAt, generateFleet } from './fleet.js';
import { ManualClock, reusableBeats, tickOptions } from './supervised-fleet.js';

const size = Number((process.env.WYNEOS_BENCH_SIZES ?? '100000').split(',')[0]);
const passes = Number(process.env.WYNEOS_BENCH_PASSES ?? '10');
const batchSize = 1_000;
const nodes = generateFleet(size);
const sup = createSupervisor({
  ...tickOptions,
  clock: new ManualClock(fleetAt),
  logger: pino({ level: 'silent' }),
});
for (let i = 0; i < nodes.length; i += batchSize) {
  sup.registerMany(nodes.slice(i, i + batchSize).map((n) => ({ id: n.id, labels: n.labels })));
}
const beats = reusableBeats(nodes, true);
const batches: Heartbeat[][] = [];
for (let i = 0; i < beats.length; i += batchSize) batches.push(beats.slice(i, i + batchSize));
const many = process.env.WYNEOS_BENCH_LOOP
  ? undefined
  : (sup as { heartbeats?: (batch: readonly Heartbeat[]) => unknown }).heartbeats;
const rates: number[] = [];
// By CPU time as well as by the wall clock: on a shared machine the wall clock also counts the
// time other processes held the core.
const cpuRates: number[] = [];
for (let pass = 0; pass < passes; pass++) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (const batch of batches) {
    for (const beat of batch) (beat as { seq: number }).seq = pass + 1;
    if (many === undefined) for (const beat of batch) sup.heartbeat(beat);
    else many.call(sup, batch);
  }
  rates.push(beats.length / ((performance.now() - start) / 1000));
  const { user, system } = process.cpuUsage(cpu);
  cpuRates.push(beats.length / ((user + system) / 1e6));
}
const median = (values: number[]) =>
  ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number) / 1e6;
console.log(
  `${many === undefined ? 'sup.heartbeat in a loop' : 'sup.heartbeats, batches of 1,000'}: ` +
    `median ${median(rates).toFixed(2)} M/s, by CPU time (all threads) ` +
    `${median(cpuRates).toFixed(2)} M/s, best pass ${(Math.max(...rates) / 1e6).toFixed(2)} M/s (passes: ${rates.map((r) => (r / 1e6).toFixed(2)).join(', ')})`,
);
await sup.stop();
