import { expandFaultMix, parseFaultMix, SeededRandom, simulate } from 'wyneos/testing';
import { defaultFaultMix } from '../../src/cli/simulate.js';
import { fleetAt, generateFleet } from '../fleet.js';
import { type Figure, keep, measure, type ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';
import { baselineFleet, tickOptions } from '../supervised-fleet.js';

const nodes = 1000;
const hourMs = scaled(3_600_000, 120_000);
/** The 10,000-node run covers less simulated time: its figure is a speed, not a total. */
const largeNodes = scaled(10_000, 2_000);
const largeRunMs = scaled(600_000, 60_000);
const ticks = hourMs / tickOptions.tickMs;
/** Simulated time per second of wall time: an hour in at most a minute. */
const budget = 60;

/**
 * `wyneos simulate`'s own workload: 1,000 nodes for one hour of 1-second ticks with the default
 * fault mix (every heartbeat delivered through the simulated network, every tick a real
 * supervisor tick, ground truth and invariants tracked). The reference is the hand-written
 * baseline doing the same 3,600 ticks of 1,000 heartbeats each, with no simulator around it.
 * Ratio: simulated time / wall time (budget: at least 60, an hour in a minute). The same at
 * 10,000 nodes (ten simulated minutes) is reported beside it.
 */
export async function simulation(): Promise<ScenarioResult> {
  const faults = expandFaultMix(
    parseFaultMix(defaultFaultMix),
    { nodeIds: fleetIds(nodes), durationMs: hourMs },
    new SeededRandom(42),
  );
  const largeFaults = expandFaultMix(
    parseFaultMix(defaultFaultMix),
    { nodeIds: fleetIds(largeNodes), durationMs: largeRunMs },
    new SeededRandom(42),
  );
  const generated = generateFleet(nodes);
  const figures: Figure[] = await measure(
    [
      {
        label: `wyneos simulate, ${largeNodes.toLocaleString('en-US')} nodes, ${largeRunMs / 60_000} min of 1 s ticks`,
        evaluations: largeNodes * (largeRunMs / tickOptions.tickMs),
        fn: async () =>
          keep(
            await simulate({
              nodes: largeNodes,
              seed: 42,
              durationMs: largeRunMs,
              faults: largeFaults,
            }),
          ),
      },
      {
        label: `wyneos simulate, ${nodes} nodes, ${hourMs / 60_000} min of 1 s ticks`,
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
  const [large, wyneos, hand] = figures;
  if (large === undefined || wyneos === undefined || hand === undefined)
    throw new Error('a task is missing');
  const speed = hourMs / wyneos.mean;
  return {
    name: 'simulation',
    ratioOf: 'simulated time / wall time for 1,000 nodes over one hour',
    figures,
    ratio: speed,
    budget: { kind: 'at least', value: budget },
    meets: speed >= budget,
    derived: [
      {
        label: `wall time for ${hourMs / 60_000} simulated minutes, ${nodes} nodes`,
        value: wyneos.mean / 1000,
        unit: 's',
      },
      {
        label: `simulated seconds per wall second, ${largeNodes.toLocaleString('en-US')} nodes`,
        value: largeRunMs / large.mean,
        unit: '×',
      },
      { label: 'wyneos simulate / baseline loop', value: wyneos.mean / hand.mean, unit: '×' },
    ],
  };
}

/** The ids `createSimulatedFleet` gives a fleet of `count` nodes. */
function fleetIds(count: number): string[] {
  const width = Math.max(4, String(count).length);
  return Array.from({ length: count }, (_, i) => `node-${String(i + 1).padStart(width, '0')}`);
}
