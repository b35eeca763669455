import type { FleetSnapshot, NodeSnapshot } from '../types.js';
import type { CompiledPolicy, CompiledRule } from './compile.js';
import { exemptionFor } from './exemptions.js';
import { judge } from './judge.js';
import type { Exemption, RuleContext, RuleResult, RuleSummary } from './types.js';

/** @internal A reported result with what enforcement needs to act on it. */
export interface Finding {
  readonly result: RuleResult;
  readonly rule: CompiledRule;
  readonly node: NodeSnapshot;
}

/** @internal One tick's evaluation, before it is compared with the previous one. */
export interface Evaluation {
  readonly nodeCount: number;
  readonly rules: readonly RuleSummary[];
  readonly fleetCompliance: number;
  readonly nodeCompliance: Record<string, number>;
  readonly findings: readonly Finding[];
}

export interface EvaluationOptions {
  /** Exemptions in force; matching results become `skip`. */
  readonly exemptions?: readonly Exemption[];
  /** A rule that takes longer than this over the whole fleet is flagged `slow`. Default: 25. */
  readonly ruleBudgetMs?: number;
  /** The time source for rule durations. Default: `performance.now`. */
  readonly measure?: () => number;
}

/**
 * @internal Evaluates every rule against every node, rule by rule so that each rule can be
 * timed and each call site stays monomorphic. Pure apart from the clock it reads.
 */
export function evaluatePolicy(
  policy: CompiledPolicy,
  snapshot: FleetSnapshot,
  options: EvaluationOptions = {},
): Evaluation {
  const { nodes } = snapshot;
  const nodeCount = nodes.length;
  const ctx: RuleContext = { tick: snapshot.tick, at: snapshot.at, fleetSize: nodeCount };
  const measure = options.measure ?? (() => performance.now());
  const budget = options.ruleBudgetMs ?? 25;
  const exemptions = options.exemptions ?? [];
  // Per node: rules that applied, and rules passed (warnings count as passed).
  const applicable = new Uint16Array(nodeCount);
  const passedCount = new Uint16Array(nodeCount);
  const findings: Finding[] = [];
  const summaries: RuleSummary[] = [];

  for (const rule of policy.rules) {
    const ruleExemptions = exemptions.filter((e) => e.ruleId === rule.id);
    const counts = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
    const startedAt = measure();
    for (let i = 0; i < nodeCount; i++) {
      const node = nodes[i] as NodeSnapshot;
      const exemption =
        ruleExemptions.length === 0 ? undefined : exemptionFor(ruleExemptions, node);
      if (exemption !== undefined) {
        counts.skip++;
        findings.push({
          rule,
          node,
          result: {
            ruleId: rule.id,
            nodeId: node.id,
            outcome: 'skip',
            severity: rule.severity,
            message: `exempted: ${exemption.reason}`,
            exemption: { id: exemption.id, reason: exemption.reason, until: exemption.until },
          },
        });
        continue;
      }
      const judgement = judge(rule, node, ctx);
      counts[judgement.outcome]++;
      if (judgement.outcome === 'skip') continue;
      applicable[i] = (applicable[i] as number) + 1;
      if (judgement.outcome === 'pass') {
        passedCount[i] = (passedCount[i] as number) + 1;
        continue;
      }
      if (judgement.outcome === 'warn') passedCount[i] = (passedCount[i] as number) + 1;
      findings.push({
        rule,
        node,
        result: { ruleId: rule.id, nodeId: node.id, severity: rule.severity, ...judgement },
      });
    }
    const durationMs = measure() - startedAt;
    summaries.push({
      ruleId: rule.id,
      description: rule.rule.description,
      severity: rule.severity,
      category: rule.rule.category,
      enforcement: rule.enforcement,
      ...counts,
      durationMs,
      slow: durationMs > budget,
    });
  }

  const nodeCompliance: Record<string, number> = {};
  let compliantNodes = 0;
  for (let i = 0; i < nodeCount; i++) {
    const total = applicable[i] as number;
    const ok = passedCount[i] as number;
    if (ok === total) compliantNodes++;
    nodeCompliance[(nodes[i] as NodeSnapshot).id] = total === 0 ? 1 : ok / total;
  }
  return {
    nodeCount,
    rules: summaries,
    fleetCompliance: nodeCount === 0 ? 1 : compliantNodes / nodeCount,
    nodeCompliance,
    findings,
  };
}
