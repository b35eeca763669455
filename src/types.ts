/**
 * The domain types every module shares: a node's lifecycle, what a tick sees of a node, and
 * the decisions a tick produces. Module-specific types live in each module's `types.ts`.
 */

/** The four lifecycle states of a node. */
export type NodeState = 'online' | 'overloaded' | 'isolated' | 'offline';

/** A node's labels, such as `{ region: 'eu-west', role: 'db' }`: what selectors and rules match. */
export type Labels = Readonly<Record<string, string>>;
/** A node's latest metrics by name, such as `{ mem: 0.42 }`, as its heartbeats report them. */
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
  /** When an automatically isolated node may be reinstated on probation. */
  readonly reinstateAt: number | undefined;
  /** Until when a reinstated node is on probation: failing sends it straight back. */
  readonly probationUntil: number | undefined;
  /** Automatic isolations in a row; each one's backoff grows with it. */
  readonly escalation: number;
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
  /**
   * How suspect the failure detector finds the node: silence / timeout for the timeout
   * detector (1 means offline), phi for the phi accrual detector (its threshold means offline).
   */
  readonly suspicion: number;
  /**
   * How far the supervisor trusts the node, from 1 (nothing against it) to 0: it falls with
   * failing rules, offline and flapping incidents, rejected heartbeats and licence trouble, and
   * recovers slowly in good standing. `sup.explainTrust(nodeId)` says what moved it.
   */
  readonly trust: number;
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
  | {
      readonly type: 'ISOLATE';
      readonly at: number;
      readonly reason: string;
      /** For automatic isolations: when healing may reinstate the node on probation. */
      readonly reinstateAt?: number;
      /** For automatic isolations: how many times in a row (sets the backoff). */
      readonly escalation?: number;
    }
  | {
      readonly type: 'REINSTATE';
      readonly at: number;
      readonly reason: string;
      /** For automatic reinstatements: until when failing sends the node straight back. */
      readonly probationUntil?: number;
    };

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

/** Every action type, in one place: the type below and the metrics' labels derive from it. */
export const remediationActionTypes = [
  'isolate',
  'reduce-load',
  'reinstate',
  'warn',
  'recover',
  'propagate',
] as const;

/** What an action does to its node; see {@link remediationActionTypes} for the list. */
export type RemediationActionType = (typeof remediationActionTypes)[number];

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
  /** Asked for before the condition happened, from a trend (a load about to cross its mark). */
  readonly predictive?: boolean;
  /**
   * When several asked for this action in one tick (healing and a rule, two rules), each of
   * them: one action per need, whose `reason` joins theirs. Absent when one asked.
   */
  readonly causes?: readonly ActionCause[];
}

/** One of the reasons a merged action was asked for, and who asked. */
export interface ActionCause {
  readonly origin: ActionOrigin;
  readonly reason: string;
  readonly ruleId?: string;
  readonly predictive?: boolean;
}

/**
 * Who asked for an action: healing, a governance rule, an operator, or a node's licence.
 * Operators' and licences' actions are never held back by the safety limits: a licence that
 * expired or was revoked is a fact, not a guess about a node's health.
 */
export type ActionOrigin = 'healing' | 'governance' | 'operator' | 'licence';

/** An action as healing or governance propose it, with the lifecycle event it brings, if any. */
export interface ActionProposal {
  readonly action: RemediationAction;
  readonly origin: ActionOrigin;
  /** For `isolate` and `reinstate`: the event for the node actor, sent only if the action is not held. */
  readonly event?: NodeLifecycleEvent;
}

/**
 * `proposed` when decided; then `applied`, `held` (by the safety limit named in `heldBy`) or
 * `failed` (a hook threw or timed out).
 */
export type ActionStatus = (typeof actionStatuses)[number];

/** Every action status, in one place. */
export const actionStatuses = ['proposed', 'applied', 'held', 'failed'] as const;

/** One step of an action's lifecycle, as `actions$` emits it. */
export interface ActionRecord extends RemediationAction {
  /** The same for every step of one action. */
  readonly id: string;
  readonly status: ActionStatus;
  readonly origin: ActionOrigin;
  /** For `held`: the safety limit that held it back. */
  readonly heldBy?: string;
  /** For `failed`: what went wrong. */
  readonly error?: string;
  /** What the hook that carried it out returned. */
  readonly output?: unknown;
  /** How many times a hook was tried. */
  readonly attempts?: number;
}
