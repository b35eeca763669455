import { evaluateRules } from 'wyneos';
import { generateSnapshot } from '../fleet.js';
import { keep, measure, type ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';
import { createJsonRulesEngine, evaluateWithJsonRulesEngine, wyneosRules } from '../ten-rules.js';

const wyneosNodes = scaled(100_000, 2_000);
// json-rules-engine needs tens of microseconds per node; a smaller fleet keeps a sample short.
const jsonNodes = scaled(2_000, 200);
const budget = 100;

/**
 * Rule evaluations per second: wyneos on 100,000 nodes against json-rules-engine on 2,000
 * nodes of the same fleet, both with the same ten rules. Ratio: wyneos evaluations/s ÷
 * json-rules-engine evaluations/s.
 */
export async function governanceVsJsonRulesEngine(): Promise<ScenarioResult> {
  const large = generateSnapshot(wyneosNodes);
  const small = { ...large, nodes: large.nodes.slice(0, jsonNodes) };
  const rules = wyneosRules.length;
  const engine = createJsonRulesEngine();

  const [wyneos, wyneosSmall, json] = await measure(
    [
      {
        label: 'wyneos evaluateRules, 100,000 nodes × 10 rules',
        evaluations: wyneosNodes * rules,
        fn: () => keep(evaluateRules(wyneosRules, large)),
      },
      {
        // Not part of the ratio: shows the per-evaluation rate does not hinge on fleet size.
        label: 'wyneos evaluateRules, 2,000 nodes × 10 rules',
        evaluations: jsonNodes * rules,
        fn: () => keep(evaluateRules(wyneosRules, small)),
      },
      {
        label: 'json-rules-engine run per node, 2,000 nodes × 10 rules',
        evaluations: jsonNodes * rules,
        fn: async () => keep(await evaluateWithJsonRulesEngine(engine, small.nodes, small.at)),
      },
    ],
    { time: 5_000, iterations: 20 },
  );
  if (wyneos === undefined || wyneosSmall === undefined || json === undefined) {
    throw new Error('a task is missing');
  }

  const ratio = wyneos.evaluationsPerSecond / json.evaluationsPerSecond;
  return {
    name: 'governance-vs-json-rules-engine',
    ratioOf: 'wyneos evaluations/s ÷ json-rules-engine evaluations/s',
    figures: [wyneos, wyneosSmall, json],
    ratio,
    budget: { kind: 'at least', value: budget },
    meets: ratio >= budget,
    derived: [
      {
        label: 'ratio with 2,000 nodes on both sides',
        value: wyneosSmall.evaluationsPerSecond / json.evaluationsPerSecond,
        unit: '×',
      },
    ],
  };
}
