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

/** Options of {@link phiAccrualDetector}; every one is optional. */
export interface PhiAccrualOptions {
  /**
   * A node is failed once phi reaches this. Phi 8 means the detector is wrong about one time
   * in 10^8, if the node's past intervals predict its next one; 1 means one time in 10.
   * @defaultValue 8
   */
  readonly threshold?: number;
  /**
   * Floor on the standard deviation of the intervals, so that a node that beats like
   * clockwork is not failed by the first few ms of lateness.
   * @defaultValue 100
   */
  readonly minStdDevMs?: number;
  /**
   * Silence tolerated on top of the mean interval (a GC pause, a network hiccup) before phi
   * starts to rise; it sets most of the time to detect.
   * @defaultValue 3000
   */
  readonly acceptablePauseMs?: number;
  /**
   * How many of the latest inter-arrival intervals each node remembers, from 1 to 1000.
   * Each costs 4 bytes a node; the default window costs about 0.7 KiB a node in all.
   * @defaultValue 100
   */
  readonly windowSize?: number;
  /**
   * The interval assumed before a node's first interval is known: mean = this,
   * standard deviation = this / 4.
   * @defaultValue 1000
   */
  readonly firstHeartbeatEstimateMs?: number;
}
