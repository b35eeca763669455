import { randomUUID } from 'node:crypto';
import type { AdmissionFailure } from '../errors.js';
import type { FleetSnapshot, NodeSnapshot } from '../types.js';
import { type CompiledPolicy, compilePolicy } from './compile.js';
import { EnforcementMemory } from './enforcement.js';
import { type Evaluation, evaluatePolicy } from './evaluate.js';
import { type ExemptionRequest, Exemptions, exemptionFor } from './exemptions.js';
import { judge, notApplicable, passed } from './judge.js';
import type {
  Exemption,
  GovernanceDecision,
  GovernanceReport,
  Policy,
  Rule,
  RuleContext,
  RuleResult,
} from './types.js';

export interface GovernanceOptions {
  /** A rule slower than this over the whole fleet in one tick is flagged. Default: 25 ms. */
  readonly ruleBudgetMs: number;
  /** The time source for rule durations. Default: `performance.now`. */
  readonly measure?: () => number;
}

/**
 * The governance side of a supervisor: the policy in force, its exemptions and its
 * memory between ticks. The governance actor calls `evaluate` once per tick; the policy is
 * swapped only between calls, so never during a tick.
 */
export class GovernanceEngine {
  private compiled: CompiledPolicy;
  private readonly memory = new EnforcementMemory();
  private readonly exemptionList = new Exemptions();

  constructor(
    policy: Policy,
    private readonly options: GovernanceOptions,
  ) {
    this.compiled = compilePolicy(policy);
  }

  get policy(): Policy {
    return { version: this.compiled.version, rules: this.compiled.rules.map((r) => r.rule) };
  }

  setPolicy(policy: Policy): void {
    this.compiled = compilePolicy(policy);
  }

  /** Forgets what enforcement remembers of a deregistered node. */
  /** Whether a rule has a failing streak for `nodeId` (exemptions are the operator's, kept). */
  has(nodeId: string): boolean {
    return this.memory.has(nodeId);
  }

  get size(): number {
    return this.memory.size;
  }

  forget(nodeId: string): void {
    this.memory.forget(nodeId);
  }

  exempt(request: ExemptionRequest, now: number): Exemption {
    return this.exemptionList.add(request, now, (ruleId) => this.compiled.byId.has(ruleId));
  }

  exemptions(now: number): readonly Exemption[] {
    return this.exemptionList.list(now);
  }

  evaluate(snapshot: FleetSnapshot): GovernanceDecision {
    const evaluation = evaluatePolicy(this.compiled, snapshot, {
      exemptions: this.exemptionList.list(snapshot.at),
      ruleBudgetMs: this.options.ruleBudgetMs,
      ...(this.options.measure === undefined ? {} : { measure: this.options.measure }),
    });
    const { proposals, changes } = this.memory.decide(
      evaluation.findings,
      snapshot.tick,
      snapshot.at,
    );
    return { report: report(this.compiled, snapshot, evaluation, changes), proposals };
  }

  /** Every rule's result for one node now, passes included. */
  explain(node: NodeSnapshot, ctx: RuleContext): RuleResult[] {
    const exemptions = this.exemptionList.list(ctx.at);
    return this.compiled.rules.map((rule): RuleResult => {
      const base = { ruleId: rule.id, nodeId: node.id, severity: rule.severity };
      const exemption = exemptionFor(
        exemptions.filter((e) => e.ruleId === rule.id),
        node,
      );
      if (exemption !== undefined) {
        return {
          ...base,
          outcome: 'skip',
          message: `exempted: ${exemption.reason}`,
          exemption: { id: exemption.id, reason: exemption.reason, until: exemption.until },
        };
      }
      const judgement = judge(rule, node, ctx);
      if (judgement === passed) return { ...base, outcome: 'pass', message: rule.rule.description };
      if (judgement === notApplicable) {
        return { ...base, outcome: 'skip', message: 'the rule does not apply to this node' };
      }
      return judgement as RuleResult;
    });
  }

  get hasAdmissionRules(): boolean {
    return this.compiled.rules.some((rule) => rule.admission);
  }

  /** The admission rules a registering node fails (an error fails too: admission fails closed). */
  admit(node: NodeSnapshot, ctx: RuleContext): AdmissionFailure[] {
    const failures: AdmissionFailure[] = [];
    for (const rule of this.compiled.rules) {
      if (!rule.admission) continue;
      const judgement = judge(rule, node, ctx);
      if (judgement.outcome === 'fail' || judgement.outcome === 'error') {
        failures.push({
          nodeId: node.id,
          ruleId: rule.id,
          message: (judgement as RuleResult).message,
        });
      }
    }
    return failures;
  }
}

/**
 * Evaluates rules against a snapshot of your own, outside a supervisor: for testing a policy.
 * The report has no `changes`, since there is no previous tick.
 */
export function evaluateRules(
  policy: Policy | readonly Rule[],
  snapshot: FleetSnapshot,
): GovernanceReport {
  const compiled = compilePolicy(
    Array.isArray(policy) ? { version: 'unversioned', rules: policy } : (policy as Policy),
  );
  const evaluation = evaluatePolicy(compiled, snapshot, { ruleBudgetMs: Number.POSITIVE_INFINITY });
  return report(compiled, snapshot, evaluation, { newlyFailing: [], resolved: [] });
}

function report(
  compiled: CompiledPolicy,
  snapshot: FleetSnapshot,
  evaluation: Evaluation,
  changes: GovernanceReport['changes'],
): GovernanceReport {
  return {
    runId: randomUUID(),
    tick: snapshot.tick,
    at: snapshot.at,
    policyVersion: compiled.version,
    nodeCount: evaluation.nodeCount,
    rules: evaluation.rules,
    fleetCompliance: evaluation.fleetCompliance,
    nodeCompliance: evaluation.nodeCompliance,
    results: evaluation.findings.results,
    changes,
  };
}
