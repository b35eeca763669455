import type { NodeSnapshot } from '../types.js';
import type { CompiledRule } from './compile.js';
import type { RuleContext, RuleOutcome } from './types.js';

/** @internal One rule's verdict on one node, before it becomes a reported result. */
export interface Judgement {
  readonly outcome: RuleOutcome;
  readonly message: string;
  readonly observed?: unknown;
  readonly expected?: unknown;
}

const passed: Judgement = { outcome: 'pass', message: '' };
const notApplicable: Judgement = {
  outcome: 'skip',
  message: 'the rule does not apply to this node',
};

/**
 * @internal Runs one rule on one node. Never throws: a rule or selector that throws, or a
 * verdict that is neither a boolean nor `{ ok }`, is an `error`. Passes share one object, so
 * the hot loop allocates only for results that are reported.
 */
export function judge(rule: CompiledRule, node: NodeSnapshot, ctx: RuleContext): Judgement {
  if (rule.applies !== undefined) {
    try {
      if (rule.applies(node) !== true) return notApplicable;
    } catch (err) {
      return { outcome: 'error', message: `appliesTo threw: ${messageOf(err)}` };
    }
  }
  let verdict: unknown;
  try {
    verdict = rule.rule.evaluate(node, ctx);
  } catch (err) {
    return { outcome: 'error', message: `rule threw: ${messageOf(err)}` };
  }
  if (verdict === true) return passed;
  if (verdict === false) return { outcome: 'fail', message: rule.rule.description };
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
    const judgement: { -readonly [K in keyof Judgement]: Judgement[K] } = {
      outcome: v.warn === true ? 'warn' : 'fail',
      message,
    };
    if ('observed' in v) judgement.observed = v.observed;
    if ('expected' in v) judgement.expected = v.expected;
    return judgement;
  }
  return {
    outcome: 'error',
    message: `rule returned ${verdict === null ? 'null' : typeof verdict}; expected true, false or { ok, message }`,
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
