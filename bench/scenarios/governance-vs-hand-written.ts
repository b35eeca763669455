import semver from 'semver';
import { evaluateRules } from 'wyneos';
import { generateSnapshot } from '../fleet.js';
import { keep, measure, type ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';
import { evaluateByHand, wyneosRules } from '../ten-rules.js';

const nodeCount = scaled(100_000, 2_000);
const budget = 2;

/**
 * One governance evaluation of 100,000 nodes against ten rules: wyneos's `evaluateRules`
 * against a hand-written loop doing the same comparisons. Ratio: wyneos time / hand time.
 */
export async function governanceVsHandWritten(): Promise<ScenarioResult> {
  const snapshot = generateSnapshot(nodeCount);
  const evaluations = nodeCount * wyneosRules.length;
  const versions = snapshot.nodes.map((n) => n.version);

  const [hand, wyneos, versionOnly] = await measure(
    [
      {
        label: 'hand-written loop, 100,000 nodes × 10 rules',
        evaluations,
        fn: () => keep(evaluateByHand(snapshot.nodes, snapshot.at)),
      },
      {
        label: 'wyneos evaluateRules, 100,000 nodes × 10 rules',
        evaluations,
        fn: () => keep(evaluateRules(wyneosRules, snapshot)),
      },
      {
        // Not part of the ratio: the share both sides spend in the one rule that parses.
        label: 'semver.gte alone, 100,000 versions',
        evaluations: nodeCount,
        fn: () => {
          let newEnough = 0;
          for (const v of versions) if (v !== undefined && semver.gte(v, '1.4.0')) newEnough++;
          keep(newEnough);
        },
      },
    ],
    { time: 5_000, iterations: 20 },
  );
  if (hand === undefined || wyneos === undefined || versionOnly === undefined) {
    throw new Error('a task is missing');
  }

  const ratio = wyneos.mean / hand.mean;
  const withoutSemver =
    (wyneos.mean - versionOnly.mean) / Math.max(hand.mean - versionOnly.mean, Number.EPSILON);
  return {
    name: 'governance-vs-hand-written',
    ratioOf: 'wyneos mean time / hand-written mean time',
    figures: [hand, wyneos, versionOnly],
    ratio,
    budget: { kind: 'at most', value: budget },
    meets: ratio <= budget,
    derived: [
      { label: 'overhead of wyneos over the loop', value: wyneos.mean - hand.mean, unit: 'ms' },
      {
        label: 'share of the hand-written time spent in semver.gte',
        value: (100 * versionOnly.mean) / hand.mean,
        unit: '%',
      },
      { label: 'ratio with semver.gte taken out of both sides', value: withoutSemver, unit: '×' },
    ],
  };
}
