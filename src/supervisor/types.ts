import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from '../clock.js';
import type { Policy, Rule } from '../governance/index.js';
import type {
  EscalationOptions,
  FlappingOptions,
  HookPolicy,
  OverloadOptions,
  PredictiveOptions,
  SafetyOptions,
} from '../healing/index.js';
import type { LicensingOptions } from '../licensing/index.js';
import type { Logger } from '../logger.js';
import type { RecordOptions } from '../replay/recorder.js';
import type { AuditLog, StateStore } from '../storage/index.js';
import type { TrustWeights } from '../trust/index.js';
import type { ActionHooks } from './action-ledger.js';
import type { HeartbeatRate } from './heartbeat-rate.js';

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

export type {
  AdmissionDecision,
  FleetHealth,
  StorageStatus,
  Supervisor,
  TickSummary,
} from './supervisor-api.js';
