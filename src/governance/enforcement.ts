import type { NodeCommand, RemediationAction, RemediationActionType } from '../types.js';
import type { Finding } from './evaluate.js';
import type { Enforcement, ResultChange } from './types.js';

const actionOf: Partial<Record<Enforcement, RemediationActionType>> = {
  warn: 'warn',
  'reduce-load': 'reduce-load',
  isolate: 'isolate',
};

/** @internal What enforcement decided on one tick. */
export interface EnforcementDecision {
  readonly commands: readonly NodeCommand[];
  readonly actions: readonly RemediationAction[];
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
    const commands: NodeCommand[] = [];
    const actions: RemediationAction[] = [];
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
      // Act once, on the tick the streak reaches `for`; a longer streak does not repeat it.
      if (ticks !== rule.for) continue;
      const type = actionOf[rule.enforcement];
      if (type === undefined) continue;
      if (type === 'isolate' && node.state === 'isolated') continue;
      const reason = `rule ${rule.id} failed${rule.for > 1 ? ` for ${rule.for} ticks` : ''}: ${result.message}`;
      actions.push({ type, nodeId: node.id, reason, tick, at, ruleId: rule.id });
      if (type === 'isolate')
        commands.push({ nodeId: node.id, event: { type: 'ISOLATE', at, reason } });
    }

    const resolved: ResultChange[] = [];
    for (const [key, streak] of this.streaks) {
      if (!next.has(key)) resolved.push({ ruleId: streak.ruleId, nodeId: streak.nodeId });
    }
    this.streaks = next;
    return { commands, actions, changes: { newlyFailing, resolved } };
  }
}
