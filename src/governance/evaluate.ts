import type { FleetSnapshot, NodeSnapshot } from '../types.js';
import type { CompiledPolicy, CompiledRule } from './compile.js';
import { exemptionFor } from './exemptions.js';
import { type Judgement, judge, judgeVerdict, threw } from './judge.js';
import type { Exemption, RuleContext, RuleResult, RuleSummary } from './types.js';

/**
 * @internal The reported results of one tick, with what enforcement needs to act on each:
 * three parallel arrays rather than an object per result, since the hot loop allocates.
 */
export interface Findings {
  readonly results: RuleResult[];
  readonly rules: CompiledRule[];
  readonly nodes: NodeSnapshot[];
}

/** @internal One tick's evaluation, before it is compared with the previous one. */
export interface Evaluation {
  readonly nodeCount: number;
  readonly rules: readonly RuleSummary[];
  readonly fleetCompliance: number;
  readonly nodeCompliance: Record<string, number>;
  readonly findings: Findings;
}

export interface EvaluationOptions {
  /** Exemptions in force; matching results become `skip`. */
  readonly exemptions?: readonly Exemption[];
  /** A rule that takes longer than this over the whole fleet is flagged `slow`. Default: 25. */
  readonly ruleBudgetMs?: number;
  /** The time source for rule durations. Default: `performance.now`. */
  readonly measure?: () => number;
}

// Nodes per chunk: enough that timing calls are rare, few enough that a chunk's snapshot
// objects fit in the CPU cache while every rule reads them.
const chunkSize = 1024;

/** @internal Evaluates every rule against every node. Pure apart from the clock it reads. */
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
  // Per node: rules that applied, and rules not passed (warnings count as passed).
  const applicable = new Uint16Array(nodeCount);
  const missed = new Uint16Array(nodeCount);
  const findings: Findings = { results: [], rules: [], nodes: [] };
  const ruleCount = policy.rules.length;
  const counts = policy.rules.map(() => ({ pass: 0, fail: 0, warn: 0, error: 0, skip: 0 }));
  const durations = new Float64Array(ruleCount);
  const ruleExemptions = policy.rules.map((rule) => exemptions.filter((e) => e.ruleId === rule.id));

  // Chunk by chunk, and rule by rule within a chunk: each rule's call site stays monomorphic
  // and can be timed, while the chunk's node objects stay in the CPU cache across the rules.
  for (let from = 0; from < nodeCount; from += chunkSize) {
    const to = Math.min(nodeCount, from + chunkSize);
    for (let r = 0; r < ruleCount; r++) {
      const rule = policy.rules[r] as CompiledRule;
      const count = counts[r] as (typeof counts)[number];
      const exempted = ruleExemptions[r] as Exemption[];
      const startedAt = measure();
      // The common case, a rule that applies to every node and nothing exempted: a pass (most
      // results) costs the call and two counts, and anything else is judged as `judge` does.
      const plain = rule.applies === undefined && exempted.length === 0;
      const definition = rule.rule;
      const passes = rule.passes;
      for (let i = from; i < to; i++) {
        const node = nodes[i] as NodeSnapshot;
        let judgement: Judgement;
        if (plain) {
          let verdict: unknown;
          let thrown: RuleResult | undefined;
          try {
            // A pass's verdict is thrown away: a built-in's quick test skips building it.
            verdict = passes?.(node) ? true : definition.evaluate(node, ctx);
          } catch (err) {
            thrown = threw(rule, node, err);
          }
          if (thrown === undefined && verdict === true) {
            count.pass++;
            applicable[i] = (applicable[i] as number) + 1;
            continue;
          }
          judgement = thrown ?? judgeVerdict(rule, node, verdict);
        } else {
          const exemption = exempted.length === 0 ? undefined : exemptionFor(exempted, node);
          if (exemption !== undefined) {
            count.skip++;
            findings.results.push({
              ruleId: rule.id,
              nodeId: node.id,
              outcome: 'skip',
              severity: rule.severity,
              message: `exempted: ${exemption.reason}`,
              exemption: { id: exemption.id, reason: exemption.reason, until: exemption.until },
            });
            findings.rules.push(rule);
            findings.nodes.push(node);
            continue;
          }
          judgement = judge(rule, node, ctx);
        }
        switch (judgement.outcome) {
          case 'pass':
            count.pass++;
            applicable[i] = (applicable[i] as number) + 1;
            continue;
          case 'skip':
            count.skip++;
            continue;
          case 'warn':
            count.warn++;
            break;
          case 'fail':
            count.fail++;
            missed[i] = (missed[i] as number) + 1;
            break;
          case 'error':
            count.error++;
            missed[i] = (missed[i] as number) + 1;
            break;
        }
        applicable[i] = (applicable[i] as number) + 1;
        findings.results.push(judgement as RuleResult);
        findings.rules.push(rule);
        findings.nodes.push(node);
      }
      durations[r] = (durations[r] as number) + (measure() - startedAt);
    }
  }
  const summaries: RuleSummary[] = policy.rules.map((rule, r) => {
    const durationMs = durations[r] as number;
    return {
      ruleId: rule.id,
      description: rule.rule.description,
      severity: rule.severity,
      category: rule.rule.category,
      enforcement: rule.enforcement,
      ...(counts[r] as (typeof counts)[number]),
      durationMs,
      slow: durationMs > budget,
    };
  });

  // Sparse: only nodes that miss a rule are listed; every other node is at 1.
  const nodeCompliance: Record<string, number> = {};
  let compliantNodes = 0;
  for (let i = 0; i < nodeCount; i++) {
    const misses = missed[i] as number;
    if (misses === 0) {
      compliantNodes++;
      continue;
    }
    const total = applicable[i] as number;
    nodeCompliance[(nodes[i] as NodeSnapshot).id] = (total - misses) / total;
  }
  return {
    nodeCount,
    rules: summaries,
    fleetCompliance: nodeCount === 0 ? 1 : compliantNodes / nodeCount,
    nodeCompliance,
    findings,
  };
}
