import type { Observable } from 'rxjs';
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from '../clock.js';
import type {
  Exemption,
  ExemptionRequest,
  GovernanceReport,
  Policy,
  Rule,
  RuleResult,
} from '../governance/index.js';
import type {
  EscalationOptions,
  FlappingOptions,
  HookPolicy,
  OverloadOptions,
  PredictiveOptions,
  SafetyOptions,
} from '../healing/index.js';
import type {
  LicenceEvent,
  LicensingOptions,
  NodeLicence,
  Revocation,
} from '../licensing/index.js';
import type { Logger } from '../logger.js';
import type { RecordOptions } from '../replay/recorder.js';
import type { AuditLog, StateStore } from '../storage/index.js';
import type { Heartbeat, HeartbeatAck, NodeRegistration } from '../telemetry/index.js';
import type { TrustExplanation, TrustIncidentKind, TrustWeights } from '../trust/index.js';
import type { ActionRecord, NodeSnapshot, NodeState, NodeTransition } from '../types.js';
import type { ActionHooks } from './action-ledger.js';
import type { HeartbeatRate } from './heartbeat-rate.js';
import type { HeartbeatBatchOptions, HeartbeatResult } from './heartbeat-types.js';

export type { HeartbeatBatchOptions, HeartbeatResult } from './heartbeat-types.js';

import type { DetectorOption } from './detector-option.js';

/** The options of {@link createSupervisor}; every one has a default. */
export interface SupervisorOptions {
  /**
   * How often the supervisor ticks, in ms.
   * @defaultValue 1000
   */
  readonly tickMs?: number;
  /**
   * A node silent this long (supervisor clock) goes offline; must exceed `tickMs`.
   * @defaultValue 3000
   */
  readonly heartbeatTimeoutMs?: number;
  /**
   * How nodes are judged failed: `'timeout'` (silent for `heartbeatTimeoutMs`) or `'phi'`, the
   * phi accrual detector, optionally as `{ kind: 'phi', threshold, minStdDevMs,
   * acceptablePauseMs, windowSize, firstHeartbeatEstimateMs }`.
   * @defaultValue 'timeout'
   */
  readonly detector?: DetectorOption;
  /**
   * A clock-driven tick later than this means the supervisor itself was not watching (a long
   * GC pause, a blocked event loop): silence from before it does not count.
   * @defaultValue `tickMs`
   */
  readonly lateToleranceMs?: number;
  /** Overload thresholds with hysteresis; each field's default is in `OverloadOptions`. */
  readonly overload?: Partial<OverloadOptions>;
  /**
   * Governance rules evaluated on every tick (an unversioned policy).
   * @defaultValue []
   */
  readonly rules?: readonly Rule[];
  /**
   * The most nodes registered at once. A registration past it is refused with
   * `FleetFullError` (`WYNEOS_ERR_FLEET_FULL`, HTTP 503) and changes nothing; a batch that
   * would pass it registers none of its nodes.
   * @defaultValue undefined (no cap)
   */
  readonly maxNodes?: number;
  /**
   * How fast one node may send heartbeats through `heartbeat` and `heartbeats` (and so over
   * NATS): a token bucket per node; faster is refused with `RateLimitedError`
   * (`WYNEOS_ERR_RATE_LIMITED`). A call's own `rate` (the HTTP plugin's `heartbeatRate`) takes
   * its place for that call. Unlimited by default: in-process callers are the embedding
   * service's own code, and a limit belongs where untrusted senders come in (`wyneos serve`
   * sets it from `--heartbeat-rate`/`--heartbeat-burst` for HTTP and NATS alike).
   * A partial rate takes `{ perSecond: 10, burst: 20 }` for what it leaves out.
   * @defaultValue undefined (no limit)
   */
  readonly heartbeatRate?: Partial<HeartbeatRate>;
  /** A versioned policy instead of `rules`; `setPolicy` replaces it live. */
  readonly policy?: Policy;
  /**
   * A rule slower than this over the whole fleet in one tick is flagged.
   * @defaultValue 25
   */
  readonly ruleBudgetMs?: number;
  /**
   * What happens to a node that fails an admission rule: `refuse` it or `isolate` it.
   * @defaultValue 'refuse'
   */
  readonly admission?: 'refuse' | 'isolate';
  /**
   * Escalating isolation: an automatically isolated node comes back on probation after
   * `baseMs × multiplier^(n-1)` (capped at `maxMs`, with jitter); failing on probation sends it
   * straight back. Each field's default is in `EscalationOptions`.
   */
  readonly escalation?: Partial<EscalationOptions>;
  /**
   * A node with more than `maxTransitions` transitions in `windowMs` is isolated as flapping
   * for at least `holdMs`. Each field's default is in `FlappingOptions`.
   */
  readonly flapping?: Partial<FlappingOptions>;
  /** Safety limits on what healing and governance may do; each field's default is in `SafetyOptions`. */
  readonly safety?: Partial<SafetyOptions>;
  /**
   * Hooks that carry out actions, by action type (recovery scripts on `recover`, mesh updates
   * on `propagate`, ...). An action with a hook is `applied` when it succeeds and `failed` when
   * it throws or times out. `recover` actions are proposed only when a hook handles them.
   */
  readonly onAction?: ActionHooks;
  /** Timeout and retries of every hook; each field's default is in `HookPolicy`. */
  readonly hooks?: Partial<HookPolicy>;
  /**
   * A pino logger; each part logs through a child.
   * @defaultValue pino at `info` to stdout
   */
  readonly logger?: Logger;
  /**
   * The time source; pass XState's `SimulatedClock` in tests.
   * @defaultValue `systemClock`
   */
  readonly clock?: Clock;
  /** Receives XState inspection events of every actor (for example Stately's inspector). */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Keep the durable state (`state.json`) and the audit log (`audit.jsonl`) in this directory,
   * and restore from it on start: isolated nodes stay isolated, backoff, probation, overrides
   * and exemptions hold. One supervisor at a time: it holds `wyneos.lock` there until `stop()`,
   * and another is refused with StateLockedError.
   * @defaultValue undefined (nothing is kept)
   */
  readonly stateDir?: string;
  /** A state store of your own instead of `stateDir` (`MemoryStateStore` in tests). */
  readonly stateStore?: StateStore;
  /** An audit log of your own instead of `stateDir` (`MemoryAuditLog` in tests). */
  readonly auditLog?: AuditLog;
  /**
   * Start from the last good copy when the state file is corrupt.
   * @defaultValue not set: a corrupt state file stops the start
   */
  readonly recover?: boolean;
  /**
   * Record every accepted registration, heartbeat, deregistration and operator command, with
   * its receive time, to a compressed, rotated trace in `record.dir`, for `wyneos replay`
   * (docs/replay.md). Written in batches off the heartbeat path; `record.maxBytes` bounds the
   * disk use (the oldest segments go first).
   * @defaultValue undefined (nothing is recorded)
   */
  readonly record?: RecordOptions;
  /**
   * Signed licences: nodes present one when they register (`register({ id, licence })`), it is
   * checked against these public keys, and every tick gates nodes whose licence expired or was
   * revoked. See docs/licences-and-trust.md.
   * @defaultValue undefined (no licence is asked for)
   */
  readonly licensing?: LicensingOptions;
  /**
   * Predictive overload: a node whose load trend, fitted by least squares over the last
   * `windowTicks` ticks, reaches `overload.high` within `horizonMs` gets a `reduce-load` action
   * marked `predictive: true` before it crosses; `{}` takes each field's default
   * (`PredictiveOptions`).
   * @defaultValue false
   */
  readonly predictive?: Partial<PredictiveOptions> | false;
  /**
   * How trust scores move: `weights` (what one incident costs), `recoveryPerMinute` and
   * `goodStandingMs` (how long without an incident before it recovers); each field's default is
   * in `TrustOptions` and `TrustWeights`.
   */
  readonly trust?: {
    readonly weights?: Partial<TrustWeights>;
    readonly recoveryPerMinute?: number;
    readonly goodStandingMs?: number;
  };
}

/** The outcome of one registration against the admission rules. */
export interface AdmissionDecision {
  readonly nodeId: string;
  readonly admitted: boolean;
  /** Admitted straight into `isolated` (with `admission: 'isolate'`). */
  readonly isolated: boolean;
  readonly failures: ReadonlyArray<{ readonly ruleId: string; readonly message: string }>;
  readonly at: number;
}

/** A change of the fleet's health, as `fleet$` emits it. */
export interface FleetHealth {
  readonly status: 'fleet-degraded' | 'fleet-healthy';
  /** Why it is degraded: `partition`, `isolation-cap`, `storage`. */
  readonly reasons: readonly string[];
  readonly tick: number;
  readonly at: number;
}

/**
 * Whether the state store and the audit log take writes. While `degraded`, the supervisor keeps
 * ticking (healing goes on, its records stay buffered) but refuses every change asked of it with
 * StorageDegradedError, and retries the writes on its own at `retryAt`, with a doubling backoff.
 */
export interface StorageStatus {
  readonly degraded: boolean;
  /** When the current episode began (supervisor clock, ms), or null. */
  readonly since: number | null;
  /** The latest write error of the current episode, or null. */
  readonly error: string | null;
  /** When the next retry is due (supervisor clock, ms), or null. */
  readonly retryAt: number | null;
  /** Writes that failed since the supervisor was created. */
  readonly failedWrites: number;
}

/** One line of bookkeeping per tick. */
export interface TickSummary {
  readonly tick: number;
  readonly at: number;
  /** Wall time the tick took to compute, in ms (informational; not on the supervisor clock). */
  readonly durationMs: number;
  readonly nodeCount: number;
  /** Nodes per state after the tick. */
  readonly states: Readonly<Record<NodeState, number>>;
  readonly transitions: number;
  /** Actions applied this tick. */
  readonly actions: number;
  /** Actions a safety limit held back this tick. */
  readonly held: number;
  /**
   * Why the fleet is degraded (`partition`, `isolation-cap`, `storage`: the state store or
   * audit log cannot be written, see {@link StorageStatus}); empty when it is not.
   */
  readonly degraded: readonly string[];
  /** The longest event-loop delay since the previous tick, in ms (system clock only). */
  readonly eventLoopLagMs: number | undefined;
  readonly fleetCompliance: number;
  /** How many rule results were `fail` or `error`. */
  readonly violations: number;
}

/** A running supervisor: the API a service embeds. */
export interface Supervisor {
  /** Starts the tick loop; registrations and heartbeats are accepted before it too. */
  start(): void;
  /**
   * Stops the tick loop and every node actor, waits for running hooks, and completes every
   * stream. Idempotent. Rejects when the last write fails (storage still degraded): what was
   * not written by then is lost.
   */
  stop(): Promise<void>;
  /**
   * Settles once every decision made so far is durable in the state store and audit log. With
   * the file store (`stateDir`) it always is, on return of the call that made it; with an
   * asynchronous store (NATS) await it before telling anyone outside about a decision.
   * Rejects when the latest write failed (it is retried with a backoff; see `storage()`).
   */
  durable(): Promise<void>;
  /** Whether the state store and audit log take writes; see {@link StorageStatus}. */
  storage(): StorageStatus;
  /** Registers one node; throws InvalidNodeError or DuplicateNodeError and changes nothing. */
  register(node: NodeRegistration): NodeSnapshot;
  /** Registers many nodes at once: all of them, or none if any is invalid or taken. */
  registerMany(nodes: readonly NodeRegistration[]): void;
  /** Forgets a node and stops its actor. Throws UnknownNodeError. */
  deregister(nodeId: string): void;
  /**
   * Records a heartbeat and returns the supervisor's `boot`, for the node to send in its next
   * heartbeats. Throws InvalidHeartbeatError, UnknownNodeError, StaleHeartbeatError (its
   * `(epoch, seq)` is not past the last accepted), or HeartbeatResyncError (the node was
   * restored from saved state and not heard since, and the heartbeat lacks the current `boot`:
   * send it again with the `boot` the error carries and the next seq).
   *
   * @example
   * ```ts
   * let boot: number | undefined;
   * ({ boot } = sup.heartbeat({ nodeId: 'node-1', epoch: startedAt, seq: 1, load: 0.4, boot }));
   * ```
   */
  heartbeat(heartbeat: Heartbeat): HeartbeatAck;
  /**
   * Takes many heartbeats and answers each: accepted (with how the supervisor sees the node and
   * its `boot`), or refused with the coded error `heartbeat` would throw. A refused heartbeat
   * changes nothing but what it costs: a stale or malformed one counts against its node's trust,
   * and a stale one spends a rate-limit token. This is the path every transport takes. Throws
   * only for misuse (not an array; a stopped supervisor).
   *
   * @example
   * ```ts
   * for (const result of sup.heartbeats(received)) {
   *   if (!result.ok) log.warn({ nodeId: result.nodeId, code: result.error.code });
   * }
   * ```
   */
  heartbeats(batch: readonly unknown[], options?: HeartbeatBatchOptions): HeartbeatResult[];
  /** Runs one tick now and returns its summary; the clock also drives ticks every `tickMs`. */
  tick(): TickSummary;
  /** Read-only views of every node, in registration order. */
  nodes(): NodeSnapshot[];
  /** A read-only view of one node, or undefined if none has that id. */
  node(nodeId: string): NodeSnapshot | undefined;
  /** The latest governance report, or null before the first tick. */
  report(): GovernanceReport | null;
  /** Every rule's result for one node now, passes included. Throws UnknownNodeError. */
  explain(nodeId: string): RuleResult[];
  /** The policy in force. */
  policy(): Policy;
  /** Replaces the policy; it takes effect from the next tick (never during one). */
  setPolicy(policy: Policy): void;
  /** Exempts a node, or the nodes a selector matches, from one rule until a time. */
  exempt(request: ExemptionRequest): Exemption;
  /** The exemptions in force now (expired ones are gone). */
  exemptions(): readonly Exemption[];
  /** Isolates a node (no-op if it already is) and emits an `isolate` action. */
  isolate(nodeId: string, reason?: string): NodeSnapshot;
  /** Reinstates an isolated node (no-op otherwise) and emits a `reinstate` action. */
  reinstate(nodeId: string, reason?: string): NodeSnapshot;
  /**
   * Revokes a licence by its id (`jti`): saved durably, and on the next tick every node that
   * holds it is gated (isolated with a reason starting `licence: revoked`), here and on every
   * supervisor sharing the state store. Returns the revocation (the earlier one if repeated).
   */
  revoke(licenceId: string, reason: string): Revocation;
  /**
   * A registered node presents a new licence (a renewal): checked like one at registration
   * (throws LicenceRefusedError and keeps the old one), then it replaces the old one. A node
   * gated for its old licence stays isolated until an operator reinstates it.
   */
  renewLicence(nodeId: string, licence: string): NodeLicence;
  /** Every revoked licence. */
  revocations(): readonly Revocation[];
  /** A node's licence and its status now, or undefined if it holds none. */
  licence(nodeId: string): NodeLicence | undefined;
  /** A node's trust score now and what moved it, newest last. Throws UnknownNodeError. */
  explainTrust(nodeId: string): TrustExplanation;
  /**
   * Reports something a node did that wyneos cannot see itself (the HTTP API reports a node
   * token used to act as another node as `impersonation`); it counts against the node's trust
   * at the next tick. Throws UnknownNodeError.
   */
  reportIncident(nodeId: string, kind: Exclude<TrustIncidentKind, 'rule'>, detail: string): void;
  /** Never isolate this node automatically (`on: false` lifts it). */
  protect(nodeId: string, on?: boolean): void;
  /** Never reinstate this node automatically (`on: false` lifts it). */
  pin(nodeId: string, on?: boolean): void;
  /** The operator's overrides in force. */
  overrides(): { readonly protected: readonly string[]; readonly pinned: readonly string[] };
  /** A summary after every tick. */
  readonly ticks$: Observable<TickSummary>;
  /** Every lifecycle transition of every node. */
  readonly transitions$: Observable<NodeTransition>;
  /** The governance report of every tick. */
  readonly reports$: Observable<GovernanceReport>;
  /** Every remediation action, for the service to carry out. */
  readonly actions$: Observable<ActionRecord>;
  /** Every admission decision, admitted or refused. */
  readonly admissions$: Observable<AdmissionDecision>;
  /** Every change of the fleet's health: `fleet-degraded` with its reasons, `fleet-healthy`. */
  readonly fleet$: Observable<FleetHealth>;
  /**
   * Every licence decision (admitted, refused, expiring, expired, revoked, gated): the hook
   * through which other services, and later the NATS mode, propagate enforcement.
   */
  readonly licences$: Observable<LicenceEvent>;
}
