/**
 * What a heartbeat and a tick allocate, in bytes, counted from `heapUsed` across a stretch
 * with no garbage collection in it (a young generation large enough to hold it all): a figure
 * that, unlike times, a loaded machine does not move. 100,000 nodes (or `WYNEOS_BENCH_SIZES`'
 * first size), the core-budgets churn and ten trivial rules, logging silent.
 *
 *   node --max-semi-space-size=1024 --import tsx bench/profile-alloc.ts
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { pino } from 'pino';
import { createSupervisor, type Heartbeat } from 'wyneos';
import { ChurnFeed } from './churn.js';
import { fleetAt, generateFleet } from './fleet.js';
import { ManualClock, type ReusableBeat, reusableBeats, tickOptions } from './supervised-fleet.js';
import { trivialWyneosRules } from './trivial-rules.js';

const size = Number((process.env.WYNEOS_BENCH_SIZES ?? '100000').split(',')[0]);
const nodes = generateFleet(size);
const clock = new ManualClock(fleetAt);
const sup = createSupervisor({
  ...tickOptions,
  clock,
  logger: pino({ level: 'silent' }),
  rules: trivialWyneosRules,
  safety: { maxIsolatedFraction: 1, partitionFraction: 1 },
});
sup.start();
for (let i = 0; i < nodes.length; i += 1_000) {
  sup.registerMany(nodes.slice(i, i + 1_000).map((n) => ({ id: n.id, labels: n.labels })));
}
const withMetrics = reusableBeats(nodes, true);
const feed = new ChurnFeed(withMetrics, nodes, tickOptions.overload.low);
const bare = reusableBeats(nodes, false);
const send = (beat: ReusableBeat) => sup.heartbeat(beat);
let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

/** Bytes `run` allocates, or NaN when a collection ran during it (the count would be off). */
async function allocated(run: () => void): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve)); // let earlier gc entries arrive
  const before = gcs;
  const start = process.memoryUsage().heapUsed;
  run();
  const end = process.memoryUsage().heapUsed;
  await new Promise((resolve) => setImmediate(resolve));
  return gcs === before ? end - start : Number.NaN;
}

// Every feed goes through the churn, so seqs keep increasing and 1 % of the fleet changes
// state each tick; the heartbeats without metrics are prebuilt copies of the churn's.
const bareOf = new Map(withMetrics.map((beat, i) => [beat, bare[i] as ReusableBeat]));
const sendBare = (beat: ReusableBeat) => {
  const copy = bareOf.get(beat) as ReusableBeat;
  copy.seq = beat.seq;
  copy.load = beat.load;
  return copy;
};
const batch: Heartbeat[] = [];
const sendBatched = (beat: ReusableBeat) => {
  batch.push(sendBare(beat));
  if (batch.length === 1_000) {
    sup.heartbeats(batch);
    batch.length = 0;
  }
};
const figures: Record<string, number[]> = {};
const note = (name: string, bytes: number, per: number) => {
  const list = figures[name] ?? [];
  list.push(bytes / per);
  figures[name] = list;
};
for (let round = 0; round < 6; round++) {
  const warm = round < 2;
  const metricBytes = await allocated(() => feed.feed(send));
  const bareBytes = await allocated(() => feed.feed((beat) => sup.heartbeat(sendBare(beat))));
  const batchBytes = await allocated(() => feed.feed(sendBatched));
  clock.at += tickOptions.tickMs;
  const tickBytes = await allocated(() => sup.tick());
  if (warm) continue;
  note('heartbeat, no metrics (B each)', bareBytes, size);
  note('heartbeat, four metrics (B each)', metricBytes, size);
  note('heartbeats, batches of 1,000, no metrics (B each)', batchBytes, size);
  note('tick (MB)', tickBytes, 1e6);
}
for (const [name, values] of Object.entries(figures)) {
  console.log(`${size} nodes, ${name}: ${values.map((v) => v.toFixed(1)).join(', ')}`);
}
await sup.stop();
