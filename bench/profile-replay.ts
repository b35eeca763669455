/**
 * The `replay` scenario's replay alone, of a trace already on disk (write one with
 * `REPLAY_KEEP=<dir> npm run bench -- replay`), under the scenario's two policies. Prints the
 * wall time; run it under the profiler to see where a replayed entry goes:
 *
 *   REPLAY_DIR=<dir> node --cpu-prof --cpu-prof-dir=<out> --import tsx bench/profile-replay.ts
 *   npx tsx scripts/cpuprofile-top.ts <out>/<file>.cpuprofile
 */
import { replayTrace } from '../src/exports/testing.js';
import { replayPolicies } from './scenarios/replay.js';

const dir = process.env.REPLAY_DIR;
if (dir === undefined) throw new Error('REPLAY_DIR: the trace directory to replay');
const { policy, baseline } = replayPolicies();
const started = performance.now();
const result = await replayTrace(dir, { policy, baseline });
const seconds = (performance.now() - started) / 1000;
console.log(
  `${result.trace.entries} entries in ${seconds.toFixed(2)} s, ${result.differences.length} differences`,
);
