import type { ActionProposal } from '../types.js';

/** The `safety` option: limits on what healing may do at once, so one bad signal cannot empty the fleet. */
export interface SafetyOptions {
  /**
   * Never more of the fleet isolated than this; beyond it isolations are held.
   * @defaultValue 0.3
   */
  readonly maxIsolatedFraction: number;
  /**
   * Automatic actions applied per tick at most; the rest are held.
   * @defaultValue 1000
   */
  readonly maxActionsPerTick: number;
  /**
   * Automatic isolations per minute at most (a restart-intensity limit).
   * @defaultValue 100
   */
  readonly maxIsolationsPerMinute: number;
  /**
   * When more than this fraction of the fleet went offline within one heartbeat timeout, the
   * supervisor assumes it is the one cut off: automatic isolation stops.
   * @defaultValue 0.5
   */
  readonly partitionFraction: number;
}

/** What the guard needs to know about the fleet on one tick. */
export interface FleetCondition {
  readonly at: number;
  readonly nodeCount: number;
  readonly isolated: number;
  /** Nodes that went offline within the last heartbeat timeout, this tick's included. */
  readonly recentlyOffline: number;
  /** Nodes offline now, this tick's included. */
  readonly offline: number;
  /** One heartbeat timeout: the detection window. */
  readonly windowMs: number;
}

export interface SafetyReview {
  readonly approved: readonly ActionProposal[];
  readonly held: ReadonlyArray<{ readonly proposal: ActionProposal; readonly limit: string }>;
  /** Why the fleet is degraded (empty when it is not): `partition`, `isolation-cap`. */
  readonly degraded: readonly string[];
}

const minuteMs = 60_000;

/**
 * The supervisor's safety limits and the operator's overrides. Operators' own commands pass
 * unchecked; everything healing and governance propose is reviewed here before it is applied.
 */
export class SafetyGuard {
  private readonly protectedNodes = new Set<string>();
  private readonly pinnedNodes = new Set<string>();
  private isolationTimes: number[] = [];
  // The partition guard holds until one detection window after the fleet looks whole again, so
  // the supervisor does not act on the stale silence of nodes whose heartbeats are returning.
  private partitionUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SafetyOptions) {}

  /** Never isolate this node automatically. */
  protect(nodeId: string, on = true): void {
    if (on) this.protectedNodes.add(nodeId);
    else this.protectedNodes.delete(nodeId);
  }

  /** Never reinstate this node automatically. */
  pin(nodeId: string, on = true): void {
    if (on) this.pinnedNodes.add(nodeId);
    else this.pinnedNodes.delete(nodeId);
  }

  protectedIds(): string[] {
    return [...this.protectedNodes];
  }

  pinnedIds(): string[] {
    return [...this.pinnedNodes];
  }

  forget(nodeId: string): void {
    this.protectedNodes.delete(nodeId);
    this.pinnedNodes.delete(nodeId);
  }

  has(nodeId: string): boolean {
    return this.protectedNodes.has(nodeId) || this.pinnedNodes.has(nodeId);
  }

  get size(): number {
    return new Set([...this.protectedNodes, ...this.pinnedNodes]).size;
  }

  review(proposals: readonly ActionProposal[], fleet: FleetCondition): SafetyReview {
    const { maxIsolatedFraction, partitionFraction } = this.options;
    const n = fleet.nodeCount;
    const suddenLoss = n > 0 && fleet.recentlyOffline / n > partitionFraction;
    const stillLost = n > 0 && fleet.offline / n > partitionFraction;
    if (suddenLoss || (stillLost && fleet.at < this.partitionUntil)) {
      this.partitionUntil = fleet.at + fleet.windowMs;
    }
    const partitioned = fleet.at < this.partitionUntil;
    this.isolationTimes = this.isolationTimes.filter((t) => t > fleet.at - minuteMs);
    // At least one node may always be isolated, as Envoy ejects at least one host whatever its
    // percentage: otherwise a small fleet could never isolate anything.
    const maxIsolated = Math.max(1, Math.floor(fleet.nodeCount * maxIsolatedFraction));
    let isolated = fleet.isolated;
    let automatic = 0;
    let capReached = isolated >= maxIsolated && fleet.nodeCount > 0;
    const approved: ActionProposal[] = [];
    const held: Array<{ proposal: ActionProposal; limit: string }> = [];

    // Proposals come merged (mergeProposals): one isolation per node per tick, so a node that
    // healing and a rule both want isolated takes one place under the cap, not two (found by
    // the model test).
    for (const proposal of proposals) {
      const limit = this.limitFor(proposal, { partitioned, isolated, maxIsolated, automatic });
      if (limit !== undefined) {
        held.push({ proposal, limit });
        if (limit === 'maxIsolatedFraction') capReached = true;
        continue;
      }
      approved.push(proposal);
      if (proposal.origin !== 'operator' && proposal.origin !== 'licence') automatic++;
      if (proposal.action.type === 'isolate') {
        isolated++;
        if (proposal.origin !== 'operator' && proposal.origin !== 'licence') {
          this.isolationTimes.push(fleet.at);
        }
      }
    }
    const degraded: string[] = [];
    if (partitioned) degraded.push('partition');
    if (capReached) degraded.push('isolation-cap');
    return { approved, held, degraded };
  }

  private limitFor(
    proposal: ActionProposal,
    state: { partitioned: boolean; isolated: number; maxIsolated: number; automatic: number },
  ): string | undefined {
    if (proposal.origin === 'operator' || proposal.origin === 'licence') return undefined;
    const { type, nodeId } = proposal.action;
    if (type === 'isolate') {
      if (this.protectedNodes.has(nodeId)) return 'protected';
      if (state.partitioned) return 'partitionGuard';
      if (state.isolated + 1 > state.maxIsolated) return 'maxIsolatedFraction';
      if (this.isolationTimes.length >= this.options.maxIsolationsPerMinute) {
        return 'maxIsolationsPerMinute';
      }
    }
    if (type === 'reinstate' && this.pinnedNodes.has(nodeId)) return 'pinned';
    if (state.automatic >= this.options.maxActionsPerTick) return 'maxActionsPerTick';
    return undefined;
  }
}
