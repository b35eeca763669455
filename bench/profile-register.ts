/**
 * One profiled registration: 100,000 nodes (or `WYNEOS_BENCH_SIZES`' first size) through
 * `registerMany` in batches of 1,000, as core-budgets measures it, `info` logging to /dev/null.
 *
 *   node --cpu-prof --cpu-prof-dir=<dir> --import tsx bench/profile-register.ts
 *   npx tsx scripts/cpuprofile-top.ts <dir>/<file>.cpuprofile --under registerMany
 */
import { pino } from 'pino';
import { createSupervisor } from 'wyneos';
import { fleetAt, generateFleet } from './fleet.js';
import { ManualClock, tickOptions } from './supervised-fleet.js';

const size = Number((process.env.WYNEOS_BENCH_SIZES ?? '100000').split(',')[0]);
const nodes = generateFleet(size);
const destination = pino.destination('/dev/null');
const sup = createSupervisor({
  ...tickOptions,
  clock: new ManualClock(fleetAt),
  logger: pino({ name: 'wyneos', level: 'info' }, destination),
});
sup.start();
const startedAt = performance.now();
for (let i = 0; i < nodes.length; i += 1_000) {
  sup.registerMany(nodes.slice(i, i + 1_000).map((n) => ({ id: n.id, labels: n.labels })));
}
console.log(`${size} nodes registered in ${(performance.now() - startedAt).toFixed(0)} ms`);
await sup.stop();
destination.end();
