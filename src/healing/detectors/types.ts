/** A failure detector; per-node state lives in the node's telemetry record (`S`). */
export interface FailureDetector<S = unknown> {
  readonly kind: 'timeout' | 'phi';
  /** Fresh per-node state, created when the node registers (at `registeredAt`). */
  createState(registeredAt: number): S;
  /** A heartbeat from the node was received at `at` (supervisor clock, ms). Hot path: O(1), no allocation. */
  recordHeartbeat(state: S, at: number): void;
  /** How suspect the node is at `now`; 0 when it just beat. For `timeout` it is silence / timeout (>= 1 means failed); for `phi` it is phi. */
  suspicion(state: S, now: number): number;
  /** True when the node is to be considered failed at `now`. */
  isFailed(state: S, now: number): boolean;
}

/** Options of {@link timeoutDetector}. */
export interface TimeoutDetectorOptions {
  /**
   * A node silent this long (supervisor clock, at receive time) is failed.
   * A positive number of ms; required.
   */
  readonly timeoutMs: number;
}

/**
 * Options of the phi accrual detector (`detector: { kind: 'phi', ... }` in the supervisor's
 * options); every one is optional. Each is one of Akka's
 * `PhiAccrualFailureDetector` parameters under another name, with Akka cluster's default
 * except `windowSize`.
 */
export interface PhiAccrualOptions {
  /**
   * A node is failed once phi reaches this. Phi 8 means the detector is wrong about one time
   * in 10^8, if the node's past intervals predict its next one; 1 means one time in 10.
   * Akka's `threshold`.
   * @defaultValue 8
   */
  readonly threshold?: number;
  /**
   * Floor on the standard deviation of the intervals, so that a node that beats like
   * clockwork is not failed by the first few ms of lateness. Akka's `min-std-deviation`.
   * @defaultValue 100
   */
  readonly minStdDevMs?: number;
  /**
   * Silence tolerated on top of the mean interval (a GC pause, a network hiccup) before phi
   * starts to rise; it sets most of the time to detect. Akka's `acceptable-heartbeat-pause`.
   * @defaultValue 3000
   */
  readonly acceptablePauseMs?: number;
  /**
   * How many of the latest inter-arrival intervals each node remembers, from 1 to 1000.
   * Akka's `max-sample-size`, whose default is 1000: here each interval costs 4 bytes a node,
   * so 1000 costs 4.3 KB a node (430 MB at 100,000 nodes), more than a whole node's heap
   * budget, where 100 costs 0.7 KB. 100 intervals are 100 s of a 1 s rhythm.
   * @defaultValue 100
   */
  readonly windowSize?: number;
  /**
   * The interval assumed before a node's first interval is known: mean = this,
   * standard deviation = this / 4. Akka's `heartbeat-interval`: set it to the nodes'
   * heartbeat interval. An interval that ends while the node counts as failed is not learned,
   * so nodes that beat much slower than this + `acceptablePauseMs` never get their rhythm
   * learned, and go offline between every two heartbeats.
   * @defaultValue 1000
   */
  readonly firstHeartbeatEstimateMs?: number;
}
