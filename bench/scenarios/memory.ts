import { fleetAt, generateFleet } from '../fleet.js';
import { keep, type ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';
import {
  baselineFleet,
  ManualClock,
  reusableBeats,
  tickOptions,
  wyneosFleet,
} from '../supervised-fleet.js';

const nodeCount = scaled(100_000, 2_000);
const budgetBytes = 4096;

interface Usage {
  readonly heap: number;
  readonly rss: number;
}

/**
 * Memory per node at 100,000 nodes, registered, one heartbeat each (with four metrics) and one
 * tick: heap after a full GC, and resident set growth, for wyneos and for the baseline. Needs
 * `global.gc`; without it the scenario says how to run it and is skipped. The baseline runs
 * second, so its RSS growth reuses pages wyneos freed and is a lower bound.
 */
export async function memory(): Promise<ScenarioResult | undefined> {
  const gc = globalThis.gc;
  if (gc === undefined) {
    console.log(
      '\nmemory: skipped, it needs global.gc. Run it with:\n' +
        '  node --expose-gc --import tsx bench/run.ts memory\n',
    );
    return undefined;
  }
  const usage = (): Usage => {
    gc();
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    return { heap: heapUsed, rss };
  };

  const wyneos = await wyneosPerNode(usage);
  const hand = baselinePerNode(usage);

  const ratio = wyneos.heap;
  return {
    name: 'memory',
    ratioOf: 'wyneos heap bytes per node after GC, 100,000 nodes',
    figures: [],
    ratio,
    budget: { kind: 'at most', value: budgetBytes },
    meets: ratio <= budgetBytes,
    derived: [
      { label: 'wyneos heap per node', value: wyneos.heap / 1024, unit: 'KiB' },
      { label: 'wyneos RSS growth per node', value: wyneos.rss / 1024, unit: 'KiB' },
      { label: 'baseline heap per node', value: hand.heap / 1024, unit: 'KiB' },
      { label: 'baseline RSS growth per node (lower bound)', value: hand.rss / 1024, unit: 'KiB' },
      { label: 'wyneos / baseline heap', value: wyneos.heap / hand.heap, unit: '×' },
    ],
  };
}

async function wyneosPerNode(usage: () => Usage): Promise<Usage> {
  const before = usage();
  const nodes = generateFleet(nodeCount);
  const clock = new ManualClock(fleetAt);
  const sup = wyneosFleet(nodes, clock);
  for (const beat of reusableBeats(nodes, true)) sup.heartbeat({ ...beat, seq: 1 });
  clock.at += tickOptions.tickMs;
  const { nodeCount: ticked } = sup.tick();
  nodes.length = 0; // the generated fleet is the benchmark's, not the supervisor's
  const after = usage();
  await sup.stop();
  if (ticked !== nodeCount) throw new Error(`ticked ${ticked} nodes, not ${nodeCount}`);
  return perNode(before, after);
}

function baselinePerNode(usage: () => Usage): Usage {
  const before = usage();
  const nodes = generateFleet(nodeCount);
  const fleet = baselineFleet(nodes, fleetAt);
  for (const beat of reusableBeats(nodes, true)) fleet.heartbeat({ ...beat, seq: 1 }, fleetAt);
  fleet.tick(fleetAt + tickOptions.tickMs);
  nodes.length = 0;
  const after = usage();
  keep(fleet);
  keep(undefined);
  return perNode(before, after);
}

function perNode(before: Usage, after: Usage): Usage {
  return {
    heap: (after.heap - before.heap) / nodeCount,
    rss: (after.rss - before.rss) / nodeCount,
  };
}
