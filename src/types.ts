/**
 * The domain types every module shares: a node's lifecycle, what a tick sees of a node, and
 * the decisions a tick produces. Module-specific types live in each module's `types.ts`.
 */

/** The four lifecycle states of a node. */
export type NodeState = 'online' | 'overloaded' | 'isolated' | 'offline';

export type Labels = Readonly<Record<string, string>>;
export type Metrics = Readonly<Record<string, number>>;

/**
 * What a tick sees of one node: its lifecycle (from its actor), its latest telemetry and its
 * metadata. Read-only: rules and planners must not change it.
 */
export interface NodeSnapshot {
  readonly id: string;
  readonly state: NodeState;
  /** When the node entered `state`, on the supervisor's clock (ms). */
  readonly since: number;
  /** Why the node entered `state`. */
  readonly reason: string;
  /** How many times the node has been isolated. */
  readonly isolations: number;
  readonly labels: Labels;
  readonly version: string | undefined;
  readonly registeredAt: number;
  /** The load of the latest accepted heartbeat, 0 before the first one. */
  readonly load: number;
  /** The metrics of the latest heartbeat that carried any. */
  readonly metrics: Metrics;
  /** The seq of the latest accepted heartbeat, undefined before the first one. */
  readonly seq: number | undefined;
  /** When the latest heartbeat was received, on the supervisor's clock; undefined before the first. */
  readonly lastHeartbeatAt: number | undefined;
}

/** Everything one tick evaluates: every registered node at one instant. */
export interface FleetSnapshot {
  readonly tick: number;
  readonly at: number;
  readonly nodes: readonly NodeSnapshot[];
}

/** Events that move a node between lifecycle states. Time enters as `at`: no timers in nodes. */
export type NodeLifecycleEvent =
  | { readonly type: 'OVERLOADED'; readonly at: number; readonly reason: string }
  | { readonly type: 'RECOVERED'; readonly at: number; readonly reason: string }
  | { readonly type: 'WENT_OFFLINE'; readonly at: number; readonly reason: string }
  | { readonly type: 'CAME_BACK'; readonly at: number; readonly reason: string }
  | { readonly type: 'ISOLATE'; readonly at: number; readonly reason: string }
  | { readonly type: 'REINSTATE'; readonly at: number; readonly reason: string };

export type NodeLifecycleEventType = NodeLifecycleEvent['type'];

/** A lifecycle event addressed to one node. */
export interface NodeCommand {
  readonly nodeId: string;
  readonly event: NodeLifecycleEvent;
}

/** A node's move from one state to another, as its actor reports it. */
export interface NodeTransition {
  readonly nodeId: string;
  readonly from: NodeState;
  readonly to: NodeState;
  readonly reason: string;
  readonly at: number;
  /** The last tick started when the transition happened (0 before the first tick). */
  readonly tick: number;
}

export type RemediationActionType = 'isolate' | 'reduce-load' | 'reinstate' | 'warn';

/**
 * Something the fleet should do about a node, for the embedding service to carry out
 * (drain it, stop sending it work, restart it, ...).
 */
export interface RemediationAction {
  readonly type: RemediationActionType;
  readonly nodeId: string;
  readonly reason: string;
  readonly tick: number;
  readonly at: number;
  /** The governance rule whose enforcement asked for it, if any. */
  readonly ruleId?: string;
}
