import type { ActionProposal, NodeCommand } from '../types.js';
import type { EscalationOptions, FlappingOptions } from './escalation.js';

/** Load thresholds with hysteresis: in at `high` for `ticks` ticks, out at `low` for `ticks` ticks. */
export interface OverloadOptions {
  /**
   * A node at or over this load for `ticks` consecutive ticks is overloaded.
   * @defaultValue 0.9
   */
  readonly high: number;
  /**
   * An overloaded node at or under this load for `ticks` consecutive ticks recovers.
   * @defaultValue 0.7
   */
  readonly low: number;
  /**
   * Consecutive ticks needed either way.
   * @defaultValue 3
   */
  readonly ticks: number;
}

export interface HealingOptions {
  /** The timeout detector's timeout; with phi accrual, only used to word reasons. */
  readonly heartbeatTimeoutMs: number;
  /** The detector whose `suspicion` in the snapshot decides liveness. */
  readonly detector: { readonly kind: 'timeout' | 'phi'; readonly failedAt: number };
  readonly overload: OverloadOptions;
  /** Propose a `recover` action for every node that goes offline (when a hook carries them out). */
  readonly proposeRecovery?: boolean;
  readonly escalation: EscalationOptions;
  readonly flapping: FlappingOptions;
  /** Nodes flapping now, with their transitions in the window. */
  readonly flappingNodes?: ReadonlyMap<string, number>;
  /**
   * Whether a node is still in a state it was restored in (see `NodeRecord.inherited`): then
   * any heartbeat it has (all were received since the restore) counts as heard since.
   */
  readonly inherited?: (nodeId: string) => boolean;
}

/**
 * What healing decided on one tick: lifecycle events for what it observed (offline, back,
 * overloaded, recovered), applied as they are, and actions it proposes, which the safety
 * limits review first.
 */
export interface HealingPlan {
  readonly tick: number;
  readonly commands: readonly NodeCommand[];
  readonly proposals: readonly ActionProposal[];
}
