import { InvalidOptionsError } from '../../errors.js';
import type { FailureDetector, PhiAccrualOptions } from './types.js';

/** The defaults of {@link phiAccrualDetector}, each documented in {@link PhiAccrualOptions}. */
export const defaultPhiAccrualOptions = Object.freeze({
  threshold: 8,
  minStdDevMs: 100,
  acceptablePauseMs: 3000,
  windowSize: 100,
  firstHeartbeatEstimateMs: 1000,
} satisfies Required<PhiAccrualOptions>);

// Akka's and Cassandra's default window. Its ring alone is 4 KB a node, the whole per-node
// budget; a bigger one is more likely a typo than a need.
const maxWindowSize = 1000;

/**
 * One node's state for {@link phiAccrualDetector}: the last arrival and a ring of the latest
 * `windowSize` inter-arrival intervals, with their running sum and sum of squares.
 *
 * Memory, Node 20 x64, measured over 100,000 full states: 307 B of heap (this object with its
 * boxed doubles, the Float32Array and its ArrayBuffer) + 400 B of ring off the heap = 0.7 KB
 * with the default window of 100 (0.9 KB of RSS); 303 B + 4,000 B = 4.3 KB with Akka's 1000
 * (4.4 KB of RSS). Float32 halves a float64 ring; even so, 1000 samples would more than double
 * a node's cost (3.0 KiB of heap before it, of a 4 KiB budget: docs/benchmarks.md). The window
 * is bounded so that this cost is fixed per node whatever its uptime, and so that the
 * statistics follow the node's recent rhythm rather than its whole history.
 */
export class PhiAccrualState {
  // Every number field starts as a number, not as the `undefined` an uninitialised ES2022
  // field holds: V8 then keeps each in a double box it overwrites in place, so a heartbeat
  // allocates nothing (an `undefined` start makes every write allocate a fresh HeapNumber).
  /** When the last heartbeat arrived; `registeredAt` until the first one. */
  last = 0;
  /** False until the first heartbeat: registration is not an arrival, so no interval ends there. */
  beaten = false;
  /** How many intervals the ring holds, up to its length. */
  count = 0;
  /** Where the next interval goes. */
  next = 0;
  /** Sums over the intervals in the ring, in float64. */
  sum = 0;
  sumOfSquares = 0;
  /** Float32: 4 B a sample, half a float64's; resolution 0.00006 ms at 1 s, 0.25 ms at 1 h. */
  readonly intervals: Float32Array;

  constructor(registeredAt: number, windowSize: number) {
    this.last = registeredAt;
    this.intervals = new Float32Array(windowSize);
  }

  /** Mean of the intervals in the ring (ms); 0 when it is empty. */
  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Population variance of the intervals in the ring (ms²); 0 when it is empty. */
  get variance(): number {
    if (this.count === 0) return 0;
    const mean = this.sum / this.count;
    // Clamped: sumOfSquares / n - mean² can round just below zero when the intervals agree.
    return Math.max(0, this.sumOfSquares / this.count - mean * mean);
  }
}

export interface PhiAccrualDetector extends FailureDetector<PhiAccrualState> {
  readonly kind: 'phi';
  readonly options: Readonly<Required<PhiAccrualOptions>>;
}

/**
 * The phi accrual failure detector (Hayashibara et al., 2004), as Akka and Cassandra use it.
 * Each node's inter-arrival intervals are modelled as a normal distribution; phi is
 * -log10 of the probability that a heartbeat comes even later than the present silence.
 * The detector adapts to each node's rhythm, so a node that beats slowly or irregularly is
 * not failed as fast as one that beats like clockwork. As in Akka, an interval that ends while
 * the node counts as failed (phi at its arrival at or over the threshold) is left out: an
 * outage is not the node's rhythm.
 *
 * @example
 * const detector = phiAccrualDetector({ threshold: 8, acceptablePauseMs: 3000 });
 * const state = detector.createState(clock.now());
 * detector.recordHeartbeat(state, clock.now());
 * detector.suspicion(state, clock.now()); // phi, about 0 just after a beat
 */
export function phiAccrualDetector(options: PhiAccrualOptions = {}): PhiAccrualDetector {
  const resolved = resolvePhiAccrualOptions(options);
  const { threshold, minStdDevMs, acceptablePauseMs, windowSize, firstHeartbeatEstimateMs } =
    resolved;
  const firstStdDevMs = Math.max(firstHeartbeatEstimateMs / 4, minStdDevMs);

  function suspicion(state: PhiAccrualState, now: number): number {
    const count = state.count;
    if (count === 0) {
      // Akka seeds its history with two guessed intervals, estimate ± estimate / 4, which stay
      // until the window evicts them; the same guess here lasts only until a real interval.
      return phi(now - state.last, firstHeartbeatEstimateMs + acceptablePauseMs, firstStdDevMs);
    }
    const mean = state.sum / count;
    const variance = state.sumOfSquares / count - mean * mean;
    const stdDev = variance > minStdDevMs * minStdDevMs ? Math.sqrt(variance) : minStdDevMs;
    return phi(now - state.last, mean + acceptablePauseMs, stdDev);
  }

  return {
    kind: 'phi',
    options: resolved,
    createState: (registeredAt) => new PhiAccrualState(registeredAt, windowSize),
    recordHeartbeat(state, at) {
      const interval = at - state.last;
      // As Akka does: an interval that ends while the node counts as failed is an outage, not
      // the node's rhythm. Were it kept, a 5-minute pause would stretch the mean and spread for
      // a whole window, and a later crash would take minutes to detect instead of seconds.
      const available = suspicion(state, at) < threshold;
      state.last = at;
      if (!state.beaten) {
        state.beaten = true;
        return;
      }
      // A clock that stepped back gives no interval; the arrival still counts.
      if (interval >= 0 && available) addInterval(state, interval);
    },
    suspicion,
    isFailed: (state, now) => suspicion(state, now) >= threshold,
  };
}

/** Puts one interval in the ring, evicting the oldest once it is full. O(1), amortised. */
function addInterval(state: PhiAccrualState, interval: number): void {
  const ring = state.intervals;
  const sample = Math.fround(interval);
  const at = state.next;
  if (state.count === ring.length) {
    const evicted = ring[at] ?? 0;
    state.sum -= evicted;
    state.sumOfSquares -= evicted * evicted;
  } else {
    state.count++;
  }
  ring[at] = sample;
  state.sum += sample;
  state.sumOfSquares += sample * sample;
  state.next = at + 1 === ring.length ? 0 : at + 1;
  // Each add and remove rounds; once a lap, sum the ring afresh so that rounding (say, what a
  // huge interval leaves behind once it is evicted) never outlives one window.
  if (state.next === 0) resync(state);
}

function resync(state: PhiAccrualState): void {
  const ring = state.intervals;
  let sum = 0;
  let sumOfSquares = 0;
  for (let i = 0; i < state.count; i++) {
    const sample = ring[i] ?? 0;
    sum += sample;
    sumOfSquares += sample * sample;
  }
  state.sum = sum;
  state.sumOfSquares = sumOfSquares;
}

/**
 * Phi for a silence of `timeSinceLastMs` when intervals are normal with `meanMs` and
 * `stdDevMs`: -log10(1 - F(t)), with F approximated by a logistic function (Akka's; error
 * under 0.02% of the CDF), and each branch written so it does not cancel to 0 or 1.
 */
export function phi(timeSinceLastMs: number, meanMs: number, stdDevMs: number): number {
  const y = (timeSinceLastMs - meanMs) / stdDevMs;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  // `+ 0` turns the -0 of -log10(1) into 0.
  return timeSinceLastMs > meanMs ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e)) + 0;
}

const knownOptions = Object.keys(defaultPhiAccrualOptions);

function resolvePhiAccrualOptions(
  options: PhiAccrualOptions,
): Readonly<Required<PhiAccrualOptions>> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError('detector', 'expected an object of phi accrual options');
  }
  for (const key of Object.keys(options)) {
    if (!knownOptions.includes(key)) {
      throw new InvalidOptionsError(
        `detector.${key}`,
        `is not an option; the options are ${knownOptions.map((k) => `detector.${k}`).join(', ')}`,
      );
    }
  }
  const d = defaultPhiAccrualOptions;
  const resolved = {
    threshold: positive(options.threshold ?? d.threshold, 'threshold'),
    minStdDevMs: positive(options.minStdDevMs ?? d.minStdDevMs, 'minStdDevMs'),
    acceptablePauseMs: number(
      options.acceptablePauseMs ?? d.acceptablePauseMs,
      'acceptablePauseMs',
    ),
    windowSize: options.windowSize ?? d.windowSize,
    firstHeartbeatEstimateMs: positive(
      options.firstHeartbeatEstimateMs ?? d.firstHeartbeatEstimateMs,
      'firstHeartbeatEstimateMs',
    ),
  };
  const { windowSize } = resolved;
  if (
    typeof windowSize !== 'number' ||
    !Number.isInteger(windowSize) ||
    windowSize < 1 ||
    windowSize > maxWindowSize
  ) {
    throw new InvalidOptionsError(
      'detector.windowSize',
      `must be an integer from 1 to ${maxWindowSize} (each sample costs 4 bytes a node), got ${String(windowSize)}`,
    );
  }
  return Object.freeze(resolved);
}

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionsError(
      `detector.${name}`,
      `must be a positive number, got ${String(value)}`,
    );
  }
  return value;
}

function number(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(
      `detector.${name}`,
      `must be a number of ms, 0 or more, got ${String(value)}`,
    );
  }
  return value;
}
