import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../processes.js';
import { mounted, unmount } from './faults.js';
import { faultKinds, runChaos } from './run.js';

// A real `wyneos serve --state-dir` and its agents under seeded random faults: pauses, kill -9s,
// a full disk and wall clock jumps. The default is one round of each fault, for `npm test`;
// `npm run test:chaos` runs many (WYNEOS_CHAOS_ROUNDS). WYNEOS_CHAOS_SEED reruns one schedule
// (the timing of real processes still varies from run to run).

afterAll(() => {
  killAll();
  // A run cut short by its timeout leaves its tmpfs mounted.
  for (const dir of mounted) unmount(dir);
});

const rounds = Number(process.env.WYNEOS_CHAOS_ROUNDS ?? faultKinds.length);
const seed = process.env.WYNEOS_CHAOS_SEED
  ? Number(process.env.WYNEOS_CHAOS_SEED)
  : Math.floor(Math.random() * 2 ** 31);

describe('chaos', () => {
  it(
    `keeps every invariant through ${rounds} random faults (seed ${seed})`,
    async () => {
      console.log(`chaos: seed ${seed} (rerun with WYNEOS_CHAOS_SEED=${seed})`);
      const tally = await runChaos(seed, rounds, (line) => console.log(line));
      console.log(tally.table(seed, rounds));
      expect(tally.failures(), `seed ${seed}: see the table above`).toEqual([]);
    },
    120_000 + rounds * 15_000,
  );
});
