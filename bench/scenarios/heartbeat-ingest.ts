import { fleetAt, generateFleet } from '../fleet.js';
import { measure, type ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';
import {
  baselineFleet,
  ManualClock,
  type ReusableBeat,
  reusableBeats,
  wyneosFleet,
} from '../supervised-fleet.js';

const nodeCount = scaled(100_000, 2_000);
const budget = 1_000_000;

/**
 * Validated heartbeats per second, in process, into 100,000 registered nodes: `sup.heartbeat`
 * against the baseline's hand-written check and store. One call sends every node one
 * heartbeat; the heartbeats are built beforehand and only their `seq` changes. Budgeted: wyneos
 * with the four metrics the rules read; load-only heartbeats and the ratio to the baseline are
 * information.
 */
export async function heartbeatIngest(): Promise<ScenarioResult> {
  const nodes = generateFleet(nodeCount);
  const clock = new ManualClock(fleetAt);
  const sup = wyneosFleet(nodes, clock);
  const baseline = baselineFleet(nodes, clock.now());
  const withMetrics = reusableBeats(nodes, true);
  const loadOnly = reusableBeats(nodes, false);

  // Each side's own seq, so every heartbeat is newer than the last one that side took.
  let wyneosSeq = 0;
  let baselineSeq = 0;
  const intoWyneos = (beats: readonly ReusableBeat[]) => () => {
    const seq = ++wyneosSeq;
    for (const beat of beats) {
      beat.seq = seq;
      sup.heartbeat(beat);
    }
  };
  const intoBaseline = (beats: readonly ReusableBeat[]) => () => {
    const seq = ++baselineSeq;
    for (const beat of beats) {
      beat.seq = seq;
      baseline.heartbeat(beat, clock.now());
    }
  };

  const [wyneos, hand, wyneosLoad, handLoad] = await measure(
    [
      {
        label: 'wyneos sup.heartbeat, 100,000 (load + 4 metrics)',
        evaluations: nodeCount,
        fn: intoWyneos(withMetrics),
      },
      {
        label: 'baseline ingest, 100,000 (load + 4 metrics)',
        evaluations: nodeCount,
        fn: intoBaseline(withMetrics),
      },
      {
        label: 'wyneos sup.heartbeat, 100,000 (load only)',
        evaluations: nodeCount,
        fn: intoWyneos(loadOnly),
      },
      {
        label: 'baseline ingest, 100,000 (load only)',
        evaluations: nodeCount,
        fn: intoBaseline(loadOnly),
      },
    ],
    { time: 2_000, iterations: 10, warmupTime: 300, warmupIterations: 3 },
  );
  // Every node took the latest heartbeat on both sides: the loops did the work measured.
  const last = nodes[nodes.length - 1]?.id ?? '';
  const stored = [sup.node(last)?.seq, baseline.nodes[nodes.length - 1]?.seq];
  await sup.stop();
  if (stored[0] !== wyneosSeq || stored[1] !== baselineSeq) {
    throw new Error(`heartbeats not stored: ${stored.join()} vs ${wyneosSeq},${baselineSeq}`);
  }
  if (!wyneos || !hand || !wyneosLoad || !handLoad) throw new Error('a task is missing');

  const ratio = wyneos.evaluationsPerSecond;
  return {
    name: 'heartbeat-ingest',
    ratioOf: 'wyneos heartbeats/s (load + 4 metrics)',
    figures: [wyneos, hand, wyneosLoad, handLoad],
    ratio,
    budget: { kind: 'at least', value: budget },
    meets: ratio >= budget,
    derived: [
      {
        label: 'wyneos / baseline throughput (load + 4 metrics)',
        value: wyneos.evaluationsPerSecond / hand.evaluationsPerSecond,
        unit: '×',
      },
      {
        label: 'wyneos / baseline throughput (load only)',
        value: wyneosLoad.evaluationsPerSecond / handLoad.evaluationsPerSecond,
        unit: '×',
      },
      {
        label: 'wyneos time per heartbeat (load + 4 metrics)',
        value: wyneos.mean * 10,
        unit: 'ns',
      },
    ],
  };
}
