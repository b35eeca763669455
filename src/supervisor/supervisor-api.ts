// The supervisor's interface and what its methods answer; its options are in types.ts.
import type { Observable } from 'rxjs';
import type {
  Exemption,
  ExemptionRequest,
  GovernanceReport,
  Policy,
  RuleResult,
} from '../governance/index.js';
import type { LicenceEvent, NodeLicence, Revocation } from '../licensing/index.js';
import type { Heartbeat, HeartbeatAck, NodeRegistration } from '../telemetry/index.js';
import type { TrustExplanation, TrustIncidentKind } from '../trust/index.js';
import type { ActionRecord, NodeSnapshot, NodeState, NodeTransition } from '../types.js';
import type { HeartbeatBatchOptions, HeartbeatResult } from './heartbeat-types.js';

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
