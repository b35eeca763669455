import type { ModelNode, Proposal } from './model.js';
import type { ModelPolicy } from './policies.js';

/** The parts of a governance report the model predicts. */
export interface ModelReport {
  readonly tick: number;
  readonly at: number;
  readonly policyVersion: string;
  readonly nodeCount: number;
  /** `ruleId nodeId`, sorted: every failing result (these rules never warn nor throw). */
  readonly failures: readonly string[];
  readonly fleetCompliance: number;
  /** Per node that fails a rule: the share of the rules that apply to it that it passes. */
  readonly nodeCompliance: Readonly<Record<string, number>>;
}

/**
 * Governance on one tick: every rule in force on every node as the tick found it, the report,
 * and what enforcement asks for (added to `proposals`). Each node's `failing` streaks move on:
 * a rule that passes, or is no longer in force, ends its streak.
 */
export function govern(
  policy: ModelPolicy,
  fleet: readonly ModelNode[],
  { tick, at }: { readonly tick: number; readonly at: number },
  proposals: Proposal[],
): ModelReport {
  const failures: string[] = [];
  const streaks = new Map<ModelNode, Map<string, number>>(fleet.map((n) => [n, new Map()]));
  for (const rule of policy.rules) {
    for (const node of fleet) {
      if (!rule.applies(node) || !rule.fails(node)) continue;
      failures.push(`${rule.id} ${node.id}`);
      const ticks = (node.failing.get(rule.id) ?? 0) + 1;
      streaks.get(node)?.set(rule.id, ticks);
      // A warning once, when a streak reaches `for`; an isolation on every tick from then on
      // until the node is isolated (one held back by a safety limit is asked for again).
      if (rule.enforcement === 'warn' && ticks === rule.for) {
        proposals.push({ origin: 'governance', type: 'warn', node });
      }
      if (rule.enforcement === 'isolate' && ticks >= rule.for && node.state !== 'isolated') {
        proposals.push({ origin: 'governance', type: 'isolate', node });
      }
    }
  }

  const nodeCompliance: Record<string, number> = {};
  let compliant = 0;
  for (const node of fleet) {
    const missed = streaks.get(node) ?? new Map<string, number>();
    node.failing = missed;
    if (missed.size === 0) {
      compliant++;
      continue;
    }
    const applicable = policy.rules.filter((rule) => rule.applies(node)).length;
    nodeCompliance[node.id] = (applicable - missed.size) / applicable;
  }
  return {
    tick,
    at,
    policyVersion: policy.policy.version,
    nodeCount: fleet.length,
    failures: failures.sort(),
    fleetCompliance: fleet.length === 0 ? 1 : compliant / fleet.length,
    nodeCompliance,
  };
}
