import { expandFaultMix, parseFaultMix, SeededRandom, simulate } from 'wyneos/testing';
import { defaultFaultMix } from '../../src/cli/simulate.js';
import { fleetAt, generateFleet } from '../fleet.js';
import { type Figure, keep, measure, type ScenarioResult } from '../measure.js';
import { baselineFleet, tickOptions } from '../supervised-fleet.js';

const nodes = 1000;
const hourMs = 3_600_000;
const ticks = hourMs / tickOptions.tickMs;
/** Simulated time per second of wall time: an hour in at most a minute. */
const budget = 60;

/**
 * `wyneos simulate`'s own workload: 1,000 nodes for one hour of 1-second ticks with the default
 * fault mix (every heartbeat delivered through the simulated network, every tick a real
 * supervisor tick, ground truth and invariants tracked). The reference is the hand-written
 * baseline doing the same 3,600 ticks of 1,000 heartbeats each, with no simulator around it.
 * Ratio: simulated time / wall time (budget: at least 60, an hour in a minute).
 */
export async function simulation(): Promise<ScenarioResult> {
  const fleetIds = Array.from(
    { length: nodes },
    (_, i) => `node-${String(i + 1).padStart(4, '0')}`,
  );
  const faults = expandFaultMix(
    parseFaultMix(defaultFaultMix),
    { nodeIds: fleetIds, durationMs: hourMs },
    new SeededRandom(42),
  );
  const generated = generateFleet(nodes);
  const figures: Figure[] = await measure(
    [
      {
        label: `wyneos simulate, ${nodes} nodes, 1 h of 1 s ticks`,
        evaluations: nodes * ticks,
        fn: async () => keep(await simulate({ nodes, seed: 42, durationMs: hourMs, faults })),
      },
      {
        label: `baseline, ${nodes} nodes × ${ticks} ticks, one heartbeat each`,
        evaluations: nodes * ticks,
        fn: () => {
          const fleet = baselineFleet(generated, fleetAt);
          let at = fleetAt;
          for (let t = 1; t <= ticks; t++) {
            at += tickOptions.tickMs;
            for (const n of generated)
              fleet.heartbeat({ nodeId: n.id, seq: t, load: n.load }, at - 1);
            keep(fleet.tick(at));
          }
        },
      },
    ],
    { time: 0, iterations: 3, warmupTime: 0, warmupIterations: 1 },
  );
  const [wyneos, hand] = figures;
  if (wyneos === undefined || hand === undefined) throw new Error('a task is missing');
  const speed = hourMs / wyneos.mean;
  return {
    name: 'simulation',
    ratioOf: 'simulated time / wall time for 1,000 nodes over one hour',
    figures,
    ratio: speed,
    budget: { kind: 'at least', value: budget },
    meets: speed >= budget,
    derived: [
      { label: 'wall time for one simulated hour', value: wyneos.mean / 1000, unit: 's' },
      { label: 'wyneos simulate / baseline loop', value: wyneos.mean / hand.mean, unit: '×' },
    ],
  };
}
