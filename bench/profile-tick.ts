/**
 * One profiled tick run: 100,000 nodes (or `WYNEOS_BENCH_SIZES`' first size), the ten trivial
 * rules, 1 % churn, `info` logging to /dev/null, 20 ticks after the warm-up. Run it under the
 * profiler and read the ticks alone:
 *
 *   node --cpu-prof --cpu-prof-dir=<dir> --import tsx bench/profile-tick.ts
 *   npx tsx scripts/cpuprofile-top.ts <dir>/<file>.cpuprofile --under tick@create-supervisor
 */
import { pino } from 'pino';
import { createSupervisor } from 'wyneos';
import { ChurnFeed, timeTicks } from './churn.js';
import { fleetAt, generateFleet } from './fleet.js';
import { ManualClock, type ReusableBeat, reusableBeats, tickOptions } from './supervised-fleet.js';
import { trivialWyneosRules } from './trivial-rules.js';

const size = Number((process.env.WYNEOS_BENCH_SIZES ?? '100000').split(',')[0]);
const nodes = generateFleet(size);
const feed = new ChurnFeed(reusableBeats(nodes, true), nodes, tickOptions.overload.low);
const clock = new ManualClock(fleetAt);
const destination = pino.destination('/dev/null');
const sup = createSupervisor({
  ...tickOptions,
  clock,
  logger: pino({ name: 'wyneos', level: 'info' }, destination),
  rules: trivialWyneosRules,
  safety: { maxIsolatedFraction: 1, partitionFraction: 1 },
});
sup.start();
for (let i = 0; i < nodes.length; i += 1_000) {
  sup.registerMany(nodes.slice(i, i + 1_000).map((n) => ({ id: n.id, labels: n.labels })));
}
const send = (beat: ReusableBeat) => sup.heartbeat(beat);
const times = await timeTicks(
  20,
  () => {
    feed.feed(send);
    clock.at += tickOptions.tickMs;
  },
  () => sup.tick().transitions,
);
const meanMs = times.samples.reduce((a, b) => a + b, 0) / times.samples.length;
console.log(`${size} nodes: mean tick ${meanMs.toFixed(0)} ms, GC ${times.gcMs.toFixed(0)} ms`);
await sup.stop();
destination.end();
