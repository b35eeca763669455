import type { FleetSnapshot, NodeSnapshot } from '../types.js';
import type { GovernanceReport, Rule, RuleContext, RuleResult, RuleSummary } from './types.js';

type Outcome = { readonly pass: true } | { readonly pass: false; readonly result: RuleResult };

const passed: Outcome = { pass: true };

/**
 * Evaluates every rule against every node of a snapshot. Pure and synchronous: a rule that
 * throws or answers nonsense becomes an `error` result for that node, and evaluation goes on.
 * Passing results are counted, never materialised.
 */
export function evaluateRules(rules: readonly Rule[], snapshot: FleetSnapshot): GovernanceReport {
  const ctx: RuleContext = {
    tick: snapshot.tick,
    at: snapshot.at,
    fleetSize: snapshot.nodes.length,
  };
  const ruleCount = rules.length;
  const pass = new Array<number>(ruleCount).fill(0);
  const fail = new Array<number>(ruleCount).fill(0);
  const error = new Array<number>(ruleCount).fill(0);
  const skip = new Array<number>(ruleCount).fill(0);
  const results: RuleResult[] = [];
  const nodeCompliance: Record<string, number> = {};
  let compliantNodes = 0;

  for (const node of snapshot.nodes) {
    let applicable = 0;
    let passes = 0;
    for (let r = 0; r < ruleCount; r++) {
      const rule = rules[r] as Rule;
      if (rule.appliesTo !== undefined && !applies(rule, node)) {
        skip[r] = (skip[r] as number) + 1;
        continue;
      }
      applicable++;
      const outcome = evaluateOne(rule, node, ctx);
      if (outcome.pass) {
        passes++;
        pass[r] = (pass[r] as number) + 1;
      } else if (outcome.result.outcome === 'fail') {
        fail[r] = (fail[r] as number) + 1;
        results.push(outcome.result);
      } else {
        error[r] = (error[r] as number) + 1;
        results.push(outcome.result);
      }
    }
    if (passes === applicable) compliantNodes++;
    nodeCompliance[node.id] = applicable === 0 ? 1 : passes / applicable;
  }

  const summaries: RuleSummary[] = rules.map((rule, r) => ({
    ruleId: rule.id,
    description: rule.description,
    pass: pass[r] as number,
    fail: fail[r] as number,
    error: error[r] as number,
    skip: skip[r] as number,
  }));
  const nodeCount = snapshot.nodes.length;
  return {
    tick: snapshot.tick,
    at: snapshot.at,
    nodeCount,
    rules: summaries,
    fleetCompliance: nodeCount === 0 ? 1 : compliantNodes / nodeCount,
    nodeCompliance,
    results,
  };
}

// A selector that throws is treated as "does not apply" rather than as a rule error: the
// rule itself never ran, so there is no verdict to report.
function applies(rule: Rule, node: NodeSnapshot): boolean {
  try {
    return rule.appliesTo?.(node) === true;
  } catch {
    return false;
  }
}

function evaluateOne(rule: Rule, node: NodeSnapshot, ctx: RuleContext): Outcome {
  let verdict: unknown;
  try {
    verdict = rule.evaluate(node, ctx);
  } catch (err) {
    return errorOutcome(
      rule,
      node,
      `rule threw: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (verdict === true) return passed;
  if (verdict === false) {
    return {
      pass: false,
      result: { ruleId: rule.id, nodeId: node.id, outcome: 'fail', message: rule.description },
    };
  }
  if (
    typeof verdict === 'object' &&
    verdict !== null &&
    typeof (verdict as { ok: unknown }).ok === 'boolean'
  ) {
    const { ok, message } = verdict as { ok: boolean; message?: unknown };
    if (ok) return passed;
    return {
      pass: false,
      result: {
        ruleId: rule.id,
        nodeId: node.id,
        outcome: 'fail',
        message: typeof message === 'string' && message !== '' ? message : rule.description,
      },
    };
  }
  return errorOutcome(
    rule,
    node,
    `rule returned ${verdict === null ? 'null' : typeof verdict}; expected true, false or { ok, message }`,
  );
}

function errorOutcome(rule: Rule, node: NodeSnapshot, message: string): Outcome {
  return { pass: false, result: { ruleId: rule.id, nodeId: node.id, outcome: 'error', message } };
}
