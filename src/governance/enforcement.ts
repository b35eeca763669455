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

/** One (rule, node) pair failing: for how many ticks, and the decision that last saw it. */
interface Streak {
  readonly ruleId: string;
  readonly nodeId: string;
  ticks: number;
  seen: number;
}

interface RuleStreaks {
  readonly byNode: Map<string, Streak>;
  /** The last decision that met a result of the rule. */
  seenBy: number;
}

/**
 * @internal Governance's memory between ticks: how many consecutive ticks each (rule, node)
 * pair has been failing. Only failing pairs have an entry, so a compliant fleet costs nothing.
 * Streaks are updated in place and stamped with the decision that saw them; a pair not seen
 * ends. (Rebuilding the maps every tick cost a map entry per failure per tick, which at
 * 100,000 nodes and ten rules was most of `decide`.)
 */
export class EnforcementMemory {
  // Per rule, per node (keyed twice rather than by a joined string, which would cost an
  // allocation per failure per tick).
  private readonly streaks = new Map<string, RuleStreaks>();
  // The streaks the last decision kept, in the order it met them, and the rules in the order
  // it first met any of their results: `resolved` lists ended streaks in that order.
  private kept: Streak[] = [];
  private spare: Streak[] = [];
  private ruleOrder: string[] = [];
  private decisions = 0;

  /** Forgets a deregistered node, so a node registered again under its id starts afresh. */
  forget(nodeId: string): void {
    for (const { byNode } of this.streaks.values()) {
      const streak = byNode.get(nodeId);
      if (streak === undefined) continue;
      streak.seen = -1;
      byNode.delete(nodeId);
    }
  }

  /** Whether any rule has a failing streak for `nodeId`. */
  has(nodeId: string): boolean {
    for (const { byNode } of this.streaks.values()) if (byNode.has(nodeId)) return true;
    return false;
  }

  /** How many nodes have a failing streak. */
  get size(): number {
    const nodes = new Set<string>();
    for (const { byNode } of this.streaks.values()) for (const id of byNode.keys()) nodes.add(id);
    return nodes.size;
  }

  decide(findings: Findings, tick: number, at: number): EnforcementDecision {
    const decision = ++this.decisions;
    const proposals: ActionProposal[] = [];
    const newlyFailing: ResultChange[] = [];
    const { results, rules, nodes } = findings;
    const kept = this.spare;
    let ruleId: string | undefined;
    let ruleStreaks: RuleStreaks | undefined;
    const ruleOrder: string[] = [];

    for (let i = 0; i < results.length; i++) {
      const result = results[i] as (typeof results)[number];
      const rule = rules[i] as (typeof rules)[number];
      const node = nodes[i] as (typeof nodes)[number];
      // Results come rule by rule within a chunk of nodes: one map lookup per run of a rule.
      if (rule.id !== ruleId) {
        ruleId = rule.id;
        ruleStreaks = this.streaks.get(ruleId);
        if (ruleStreaks === undefined) {
          ruleStreaks = { byNode: new Map(), seenBy: 0 };
          this.streaks.set(ruleId, ruleStreaks);
        }
        if (ruleStreaks.seenBy !== decision) {
          ruleStreaks.seenBy = decision;
          ruleOrder.push(ruleId);
        }
      }
      const streaks = (ruleStreaks as RuleStreaks).byNode;
      const previous = streaks.get(node.id);
      const failing =
        result.outcome === 'fail' || (result.outcome === 'error' && rule.onError === 'fail');
      if (!failing) {
        // Fail open: an error the rule counts as skip neither starts nor ends a streak.
        if (result.outcome === 'error' && previous !== undefined && previous.seen !== decision) {
          previous.seen = decision;
          kept.push(previous);
        }
        continue;
      }
      let ticks: number;
      if (previous === undefined) {
        ticks = 1;
        const streak: Streak = { ruleId: rule.id, nodeId: node.id, ticks, seen: decision };
        streaks.set(node.id, streak);
        kept.push(streak);
        newlyFailing.push({ ruleId: rule.id, nodeId: node.id });
      } else {
        if (previous.seen === decision) continue; // the same node twice in one snapshot
        ticks = ++previous.ticks;
        previous.seen = decision;
        kept.push(previous);
      }
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

    const resolved = this.resolve(decision);
    this.ruleOrder = ruleOrder;
    this.spare = this.kept;
    this.spare.length = 0;
    this.kept = kept;
    return { proposals, changes: { newlyFailing, resolved } };
  }

  /** Ends the streaks the last decision kept and this one did not see. */
  private resolve(decision: number): ResultChange[] {
    const ended: Streak[] = [];
    for (const streak of this.kept) {
      if (streak.seen === decision || streak.seen === -1) continue;
      ended.push(streak);
      this.streaks.get(streak.ruleId)?.byNode.delete(streak.nodeId);
    }
    if (ended.length > 1) {
      // Grouped by rule, rules in the order the last decision first met them (sort is stable).
      const rank = new Map(this.ruleOrder.map((ruleId, i) => [ruleId, i]));
      ended.sort((a, b) => (rank.get(a.ruleId) as number) - (rank.get(b.ruleId) as number));
    }
    return ended.map(({ ruleId, nodeId }) => ({ ruleId, nodeId }));
  }
}
