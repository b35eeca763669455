import { evaluateRules } from 'wyneos';
import { bufbuildRules, celInterpretedRules, celWyneosRules } from '../cel-rules.js';
import { generateSnapshot } from '../fleet.js';
import { keep, measure, type ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';
import { trivialWyneosRules } from '../trivial-rules.js';

const nodeCount = scaled(100_000, 2_000);
// @bufbuild/cel evaluates about 100,000 rules a second: 100,000 nodes would take 10 s a call.
const bufbuildNodes = 2_000;
const budget = 3;
const minimumRate = 5_000_000;

/**
 * The ten trivial rules (`trivial-rules.ts`) written as CEL, evaluated by wyneos's
 * `evaluateRules` over 100,000 nodes, against the same rules in TypeScript in the same run;
 * the same with @marcbachmann/cel-js interpreting every evaluation, and @bufbuild/cel, the
 * other library measured, at 2,000 nodes. Ratio: CEL time / TypeScript
 * time. The other half of the budget, at least 5 M evaluations/s, is in `derived`.
 */
export async function cel(): Promise<ScenarioResult> {
  const snapshot = generateSnapshot(nodeCount);
  const small = generateSnapshot(bufbuildNodes);
  const evaluations = nodeCount * trivialWyneosRules.length;
  const [typescript, marcbachmann, interpreted, bufbuild] = await measure(
    [
      {
        label: 'TypeScript rules, 100,000 nodes × 10 rules',
        evaluations,
        fn: () => keep(evaluateRules(trivialWyneosRules, snapshot)),
      },
      {
        label: 'CEL rules (wyneos: checked by @marcbachmann/cel-js, run as closures), 100,000 × 10',
        evaluations,
        fn: () => keep(evaluateRules(celWyneosRules, snapshot)),
      },
      {
        label: 'CEL rules (@marcbachmann/cel-js interpreting), 100,000 nodes × 10 rules',
        evaluations,
        fn: () => keep(evaluateRules(celInterpretedRules, snapshot)),
      },
      {
        label: 'CEL rules (@bufbuild/cel), 2,000 nodes × 10 rules',
        evaluations: bufbuildNodes * bufbuildRules.length,
        fn: () => keep(evaluateRules(bufbuildRules, small)),
      },
    ],
    { time: 5_000, iterations: 10 },
  );
  if (
    typescript === undefined ||
    marcbachmann === undefined ||
    interpreted === undefined ||
    bufbuild === undefined
  ) {
    throw new Error('a task is missing');
  }
  const ratio = marcbachmann.mean / typescript.mean;
  const rate = marcbachmann.evaluationsPerSecond;
  return {
    name: 'cel',
    ratioOf: 'wyneos CEL rules mean time / TypeScript mean time',
    figures: [typescript, marcbachmann, interpreted, bufbuild],
    ratio,
    budget: { kind: 'at most', value: budget },
    meets: ratio <= budget && rate >= minimumRate,
    derived: [
      { label: 'CEL evaluations per second (budget ≥ 5 M)', value: rate / 1e6, unit: 'M/s' },
      {
        label: 'closures over the library interpreting, evaluations per second',
        value: rate / interpreted.evaluationsPerSecond,
        unit: '×',
      },
      {
        label: '@marcbachmann/cel-js over @bufbuild/cel, both interpreting, evaluations per second',
        value: interpreted.evaluationsPerSecond / bufbuild.evaluationsPerSecond,
        unit: '×',
      },
    ],
  };
}
