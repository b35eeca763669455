import { thrownMessage } from '../show.js';
import type { NodeSnapshot } from '../types.js';
import type { CompiledRule } from './compile.js';
import type { RuleContext, RuleResult } from './types.js';

/** @internal The verdict for a node the rule passes: one shared object, never reported. */
export const passed = { outcome: 'pass' } as const;
/** @internal The verdict for a node the rule does not apply to. */
export const notApplicable = { outcome: 'skip' } as const;

/** @internal What one rule says about one node. */
export type Judgement = typeof passed | typeof notApplicable | RuleResult;

/**
 * @internal Runs one rule on one node. Never throws: a rule or selector that throws, or a
 * verdict that is neither a boolean nor `{ ok }`, is an `error` result. Passes and skips are
 * shared constants, so the hot loop allocates one object per reported result and nothing else.
 */
export function judge(rule: CompiledRule, node: NodeSnapshot, ctx: RuleContext): Judgement {
  if (rule.applies !== undefined) {
    try {
      if (rule.applies(node) !== true) return notApplicable;
    } catch (err) {
      return result(rule, node, 'error', `appliesTo threw: ${thrownMessage(err)}`);
    }
  }
  let verdict: unknown;
  try {
    verdict = rule.rule.evaluate(node, ctx);
  } catch (err) {
    return threw(rule, node, err);
  }
  return judgeVerdict(rule, node, verdict);
}

/** @internal The judgement of a rule that threw `err` on `node`. */
export function threw(rule: CompiledRule, node: NodeSnapshot, err: unknown): RuleResult {
  return result(rule, node, 'error', `rule threw: ${thrownMessage(err)}`);
}

/** @internal The judgement of what a rule's `evaluate` returned for `node`. */
export function judgeVerdict(rule: CompiledRule, node: NodeSnapshot, verdict: unknown): Judgement {
  if (verdict === true) return passed;
  if (verdict === false) return result(rule, node, 'fail', rule.rule.description);
  if (
    typeof verdict === 'object' &&
    verdict !== null &&
    typeof (verdict as { ok?: unknown }).ok === 'boolean'
  ) {
    const v = verdict as {
      ok: boolean;
      warn?: unknown;
      message?: unknown;
      observed?: unknown;
      expected?: unknown;
    };
    if (v.ok) return passed;
    const message =
      typeof v.message === 'string' && v.message !== '' ? v.message : rule.rule.description;
    const judged = result(rule, node, v.warn === true ? 'warn' : 'fail', message);
    if ('observed' in v) judged.observed = v.observed;
    if ('expected' in v) judged.expected = v.expected;
    return judged;
  }
  const kind = verdict === null ? 'null' : typeof verdict;
  return result(
    rule,
    node,
    'error',
    `rule returned ${kind}; expected true, false or { ok, message }`,
  );
}

function result(
  rule: CompiledRule,
  node: NodeSnapshot,
  outcome: RuleResult['outcome'],
  message: string,
): { -readonly [K in keyof RuleResult]: RuleResult[K] } {
  return { ruleId: rule.id, nodeId: node.id, outcome, severity: rule.severity, message };
}
