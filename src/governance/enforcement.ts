import type { ActionProposal, RemediationActionType } from '../types.js';
import type { Finding } from './evaluate.js';
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
  private streaks = new Map<string, { ruleId: string; nodeId: string; ticks: number }>();

  decide(findings: readonly Finding[], tick: number, at: number): EnforcementDecision {
    const next = new Map<string, { ruleId: string; nodeId: string; ticks: number }>();
    const proposals: ActionProposal[] = [];
    const newlyFailing: ResultChange[] = [];

    for (const { result, rule, node } of findings) {
      const key = `${result.ruleId}\u0000${result.nodeId}`;
      const previous = this.streaks.get(key);
      const failing =
        result.outcome === 'fail' || (result.outcome === 'error' && rule.onError === 'fail');
      if (!failing) {
        // Fail open: an error the rule counts as skip neither starts nor ends a streak.
        if (result.outcome === 'error' && previous !== undefined) next.set(key, previous);
        continue;
      }
      const ticks = (previous?.ticks ?? 0) + 1;
      next.set(key, { ruleId: result.ruleId, nodeId: result.nodeId, ticks });
      if (previous === undefined)
        newlyFailing.push({ ruleId: result.ruleId, nodeId: result.nodeId });
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
    for (const [key, streak] of this.streaks) {
      if (!next.has(key)) resolved.push({ ruleId: streak.ruleId, nodeId: streak.nodeId });
    }
    this.streaks = next;
    return { proposals, changes: { newlyFailing, resolved } };
  }
}
