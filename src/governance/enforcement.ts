import type { ActionProposal, RemediationActionType } from '../types.js';
import type { Findings } from './evaluate.js';
import type { Enforcement, ResultChange } from './types.js';

const actionOf: Partial<Record<Enforcement, RemediationActionType>> = {
  warn: 'warn',
  'reduce-load': 'reduce-load',
  isolate: 'isolate',
};

/** @internal What enforcement decided on one tick. */
export interface EnforcementDecision {
  readonly proposals: readonly ActionProposal[];
  readonly changes: { readonly newlyFailing: ResultChange[]; readonly resolved: ResultChange[] };
}

/**
 * @internal Governance's memory between ticks: how many consecutive ticks each (rule, node)
 * pair has been failing. Only failing pairs have an entry, so a compliant fleet costs nothing.
 */
export class EnforcementMemory {
  // Per rule, per node: consecutive failing ticks (keyed twice rather than by a joined string,
  // which would cost an allocation per failure per tick).
  private streaks = new Map<string, Map<string, number>>();

  /** Forgets a deregistered node, so a node registered again under its id starts afresh. */
  forget(nodeId: string): void {
    for (const ruleStreaks of this.streaks.values()) ruleStreaks.delete(nodeId);
  }

  /** Whether any rule has a failing streak for `nodeId`. */
  has(nodeId: string): boolean {
    for (const ruleStreaks of this.streaks.values()) if (ruleStreaks.has(nodeId)) return true;
    return false;
  }

  /** How many nodes have a failing streak. */
  get size(): number {
    const nodes = new Set<string>();
    for (const ruleStreaks of this.streaks.values()) for (const id of ruleStreaks.keys()) nodes.add(id);
    return nodes.size;
  }

  decide(findings: Findings, tick: number, at: number): EnforcementDecision {
    const next = new Map<string, Map<string, number>>();
    const proposals: ActionProposal[] = [];
    const newlyFailing: ResultChange[] = [];
    const { results, rules, nodes } = findings;

    for (let i = 0; i < results.length; i++) {
      const result = results[i] as (typeof results)[number];
      const rule = rules[i] as (typeof rules)[number];
      const node = nodes[i] as (typeof nodes)[number];
      const previous = this.streaks.get(rule.id)?.get(node.id);
      const failing =
        result.outcome === 'fail' || (result.outcome === 'error' && rule.onError === 'fail');
      let ruleStreaks = next.get(rule.id);
      if (ruleStreaks === undefined) {
        ruleStreaks = new Map();
        next.set(rule.id, ruleStreaks);
      }
      if (!failing) {
        // Fail open: an error the rule counts as skip neither starts nor ends a streak.
        if (result.outcome === 'error' && previous !== undefined)
          ruleStreaks.set(node.id, previous);
        continue;
      }
      const ticks = (previous ?? 0) + 1;
      ruleStreaks.set(node.id, ticks);
      if (previous === undefined) newlyFailing.push({ ruleId: rule.id, nodeId: node.id });
      const type = actionOf[rule.enforcement];
      if (type === undefined || ticks < rule.for) continue;
      // Isolation is a state to reach: asked for on every tick the node is not isolated yet, so
      // one held back by a safety limit happens once the limit allows. Warnings and load
      // shedding are one-off: asked for once, on the tick the streak reaches `for`.
      if (type === 'isolate' ? node.state === 'isolated' : ticks !== rule.for) continue;
      const reason = `rule ${rule.id} failed${rule.for > 1 ? ` for ${rule.for} ticks` : ''}: ${result.message}`;
      const action = { type, nodeId: node.id, reason, tick, at, ruleId: rule.id };
      proposals.push(
        type === 'isolate'
          ? { origin: 'governance', action, event: { type: 'ISOLATE', at, reason } }
          : { origin: 'governance', action },
      );
    }

    const resolved: ResultChange[] = [];
    for (const [ruleId, ruleStreaks] of this.streaks) {
      const still = next.get(ruleId);
      for (const nodeId of ruleStreaks.keys()) {
        if (still?.has(nodeId) !== true) resolved.push({ ruleId, nodeId });
      }
    }
    this.streaks = next;
    return { proposals, changes: { newlyFailing, resolved } };
  }
}
