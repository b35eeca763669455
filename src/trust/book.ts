import type { GovernanceReport } from '../governance/index.js';
import { hold, penalise, trustAt } from './model.js';
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
  // Nodes failing a rule this tick: not in good standing, so their recovery waits.
  private readonly failing: string[] = [];
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

  /**
   * A tick's governance report: each rule a node newly fails costs the weight of its severity
   * once (O(changes)); a node still failing any rule is not in good standing, so it does not
   * recover while it fails (one lookup per failing result, no allocation).
   */
  noteFailures(report: GovernanceReport): void {
    const { newlyFailing } = report.changes;
    if (newlyFailing.length > 0) {
      const severities = new Map(report.rules.map((rule) => [rule.ruleId, rule.severity]));
      for (const { ruleId, nodeId } of newlyFailing) {
        const severity = severities.get(ruleId) ?? 'medium';
        const delta = -this.options.weights[severity];
        this.add(nodeId, {
          kind: 'rule',
          detail: `${ruleId} (${severity}) started failing`,
          delta,
        });
      }
    }
    for (const result of report.results) {
      if (result.outcome === 'fail') this.failing.push(result.nodeId);
    }
  }

  /** Applies every incident noted since the previous tick. */
  tick(tick: number, at: number): void {
    const previousAt = this.previousAt ?? at;
    this.previousAt = at;
    for (const [nodeId, incidents] of this.pending) {
      const slot = this.slots.get(nodeId);
      if (slot === undefined) continue; // deregistered meanwhile
      slot.trust = penalise(slot.trust, incidents, tick, at, previousAt, this.options);
    }
    if (this.pending.size > 0) this.pending = new Map();
    // After the incidents: a node penalised this tick is already held (penalizedAt is now).
    for (const nodeId of this.failing) {
      const slot = this.slots.get(nodeId);
      if (slot?.trust !== undefined) hold(slot.trust, at, previousAt, this.options);
    }
    this.failing.length = 0;
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

  /** Incidents waiting for the next tick (a node's score itself lives on its record). */
  has(nodeId: string): boolean {
    return this.pending.has(nodeId);
  }

  get size(): number {
    return this.pending.size;
  }

  private add(nodeId: string, incident: Incident): void {
    const list = this.pending.get(nodeId);
    if (list === undefined) this.pending.set(nodeId, [incident]);
    // A flood of rejected heartbeats from one node is one story: keep the list bounded.
    else if (list.length < 100) list.push(incident);
  }
}
