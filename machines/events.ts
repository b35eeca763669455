import type { GovernanceDecision } from '../src/governance/types.js';
import type { HealingPlan } from '../src/healing/types.js';
import type { LicenceTick } from '../src/licensing/licence-book.js';
import type { ActionProposal, FleetSnapshot, NodeState } from '../src/types.js';

// The events the runtime's actors send each other, each made by one factory here, so that a
// name is spelled once (as XState's own eventUtils does).

/** The safety review of one tick: what may be applied, and what is held back and by what. */
export interface TickReview {
  readonly approved: readonly ActionProposal[];
  readonly held: ReadonlyArray<{ readonly proposal: ActionProposal; readonly limit: string }>;
  readonly degraded: readonly string[];
  /** What licence gating decided this tick (events to emit, statuses that changed). */
  readonly licence?: LicenceTick;
}

export interface SnapshotTakenEvent {
  readonly type: 'SNAPSHOT.TAKEN';
  readonly snapshot: FleetSnapshot;
}
export interface HealingPlannedEvent {
  readonly type: 'HEALING.PLANNED';
  readonly plan: HealingPlan;
}
export interface GovernanceReportedEvent {
  readonly type: 'GOVERNANCE.REPORTED';
  readonly decision: GovernanceDecision;
}
export interface ReviewDoneEvent {
  readonly type: 'REVIEW.DONE';
  readonly review: TickReview;
}
export interface TickAppliedEvent {
  readonly type: 'TICK.APPLIED';
}
/** What a node actor tells its supervisor after every transition. */
export interface NodeTransitionedEvent {
  readonly type: 'NODE.TRANSITIONED';
  readonly nodeId: string;
  readonly from: NodeState;
  readonly to: NodeState;
  readonly reason: string;
  readonly at: number;
}

export const snapshotTaken = (snapshot: FleetSnapshot): SnapshotTakenEvent => ({
  type: 'SNAPSHOT.TAKEN',
  snapshot,
});
export const healingPlanned = (plan: HealingPlan): HealingPlannedEvent => ({
  type: 'HEALING.PLANNED',
  plan,
});
export const governanceReported = (decision: GovernanceDecision): GovernanceReportedEvent => ({
  type: 'GOVERNANCE.REPORTED',
  decision,
});
export const reviewDone = (review: TickReview): ReviewDoneEvent => ({
  type: 'REVIEW.DONE',
  review,
});
export const tickApplied = (): TickAppliedEvent => ({ type: 'TICK.APPLIED' });
export const nodeTransitioned = (
  nodeId: string,
  from: NodeState,
  to: NodeState,
  reason: string,
  at: number,
): NodeTransitionedEvent => ({ type: 'NODE.TRANSITIONED', nodeId, from, to, reason, at });
