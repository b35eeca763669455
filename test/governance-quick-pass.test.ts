import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createNodeSnapshot } from 'wyneos/testing';
import { maxLoad, requiredLabels } from '../src/governance/builtins.js';
import { compilePolicy } from '../src/governance/compile.js';
import { evaluatePolicy } from '../src/governance/evaluate.js';
import type { Rule, RuleContext } from '../src/governance/types.js';

const ctx: RuleContext = { tick: 1, at: 1000, fleetSize: 1 };

const labelKey = fc.constantFrom('region', 'team', 'zone', 'constructor', '__proto__');
const nodes = fc.array(
  fc.record({
    load: fc.oneof(fc.double({ min: 0, max: 1 }), fc.constant(Number.NaN)),
    labels: fc.dictionary(labelKey, fc.string({ maxLength: 3 }), { maxKeys: 3 }),
  }),
  { minLength: 1, maxLength: 20 },
);

describe('quick pass', () => {
  it("gives maxLoad and requiredLabels a pass test that agrees with their verdict's ok", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.uniqueArray(labelKey, { minLength: 1, maxLength: 3 }),
        nodes,
        (max, keys, fields) => {
          const rules: Rule[] = [maxLoad(max), requiredLabels(keys)];
          const compiled = compilePolicy({ version: 'v', rules }).rules;
          for (const [i, rule] of rules.entries()) {
            const passes = compiled[i]?.passes;
            expect(passes).toBeTypeOf('function');
            for (const [n, f] of fields.entries()) {
              const node = createNodeSnapshot({ id: `n${n}`, ...f });
              const verdict = rule.evaluate(node, ctx) as { ok: boolean };
              expect(passes?.(node)).toBe(verdict.ok);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('has none for a rule whose evaluate is not the built-in it came with', () => {
    const own: Rule = { ...maxLoad(0.5), evaluate: () => false };
    const [rule] = compilePolicy({ version: 'v', rules: [own] }).rules;
    expect(rule?.passes).toBeUndefined();
    const node = createNodeSnapshot({ id: 'n', load: 0.1 });
    const evaluation = evaluatePolicy(compilePolicy({ version: 'v', rules: [own] }), {
      tick: 1,
      at: 1000,
      nodes: [node],
    });
    expect(evaluation.rules[0]).toMatchObject({ pass: 0, fail: 1 });
  });
});
