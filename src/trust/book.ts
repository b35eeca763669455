import type { RuleResult } from '../governance/index.js';
import { penalise, trustAt } from './model.js';
import type {
  TrustEntry,
  TrustExplanation,
  TrustIncidentKind,
  TrustOptions,
  TrustState,
} from './types.js';

type Incident = Omit<TrustEntry, 'at' | 'tick'>;

/** Where a node's trust state lives (the supervisor keeps it on the node's telemetry record). */
export interface TrustSlots {
  get(nodeId: string): { trust: TrustState | undefined } | undefined;
}

/**
 * Collects what each node did during a tick (rejected heartbeats arrive between ticks; rule
 * failures, offline and flapping incidents and licence changes at the tick) and applies it
 * once per tick. The work is O(incidents): nodes with nothing to report are not visited, and
 * their trust recovers in closed form (see model.ts).
 */
export class TrustBook {
  private pending = new Map<string, Incident[]>();
  private previousAt: number | undefined;

  constructor(
    readonly options: TrustOptions,
    private readonly slots: TrustSlots,
  ) {}

  /** Something a node did, counted at the next tick. */
  note(nodeId: string, kind: TrustIncidentKind, detail: string): void {
    const weight = kind === 'rule' ? 0 : this.options.weights[kind];
    this.add(nodeId, { kind, detail, delta: -weight });
  }

  /** Failing rule results, each weighted by its severity. */
  noteFailures(results: readonly RuleResult[]): void {
    for (const result of results) {
      if (result.outcome !== 'fail') continue;
      const delta = -this.options.weights[result.severity];
      this.add(result.nodeId, {
        kind: 'rule',
        detail: `${result.ruleId} (${result.severity}): ${result.message}`,
        delta,
      });
    }
  }

  /** Applies every incident noted since the previous tick. */
  tick(tick: number, at: number): void {
    const previousAt = this.previousAt ?? at;
    this.previousAt = at;
    if (this.pending.size === 0) return;
    for (const [nodeId, incidents] of this.pending) {
      const slot = this.slots.get(nodeId);
      if (slot === undefined) continue; // deregistered meanwhile
      slot.trust = penalise(slot.trust, incidents, tick, at, previousAt, this.options);
    }
    this.pending = new Map();
  }

  value(state: TrustState | undefined, at: number): number {
    return trustAt(state, at, this.options);
  }

  explain(nodeId: string, state: TrustState | undefined, at: number): TrustExplanation {
    const trust = trustAt(state, at, this.options);
    const recovering =
      state !== undefined && trust > state.base
        ? { since: state.penalizedAt + this.options.goodStandingMs, delta: trust - state.base }
        : null;
    return { nodeId, trust, recovering, entries: state?.entries.map((e) => ({ ...e })) ?? [] };
  }

  forget(nodeId: string): void {
    this.pending.delete(nodeId);
  }

  private add(nodeId: string, incident: Incident): void {
    const list = this.pending.get(nodeId);
    if (list === undefined) this.pending.set(nodeId, [incident]);
    // A flood of rejected heartbeats from one node is one story: keep the list bounded.
    else if (list.length < 100) list.push(incident);
  }
}
