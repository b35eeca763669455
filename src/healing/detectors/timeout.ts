import { InvalidOptionsError } from '../../errors.js';
import type { FailureDetector, TimeoutDetectorOptions } from './types.js';

/**
 * One node's state for {@link timeoutDetector}: the last arrival time, nothing else
 * (48 B on Node 20 x64: the object and the double box it holds).
 */
export class TimeoutState {
  // Starts as a number, not as the `undefined` of an uninitialised ES2022 field, so V8 keeps it
  // in a double box overwritten in place: a heartbeat allocates nothing.
  /** When the last heartbeat arrived; `registeredAt` until the first one. */
  last = 0;

  constructor(registeredAt: number) {
    this.last = registeredAt;
  }
}

export interface TimeoutDetector extends FailureDetector<TimeoutState> {
  readonly kind: 'timeout';
  readonly options: Readonly<Required<TimeoutDetectorOptions>>;
}

const knownOptions = new Set(['timeoutMs']);

/**
 * A node is failed once it has been silent for `timeoutMs`: the rule healing uses today
 * (`silentFor >= heartbeatTimeoutMs`). Suspicion is silence / timeout, so it reaches 1 at the
 * timeout.
 *
 * @example
 * const detector = timeoutDetector({ timeoutMs: 3000 });
 * const state = detector.createState(clock.now());
 * detector.recordHeartbeat(state, clock.now());
 * detector.isFailed(state, clock.now() + 3000); // true if no heartbeat came since
 */
export function timeoutDetector(options: TimeoutDetectorOptions): TimeoutDetector {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError('detector', 'expected an object like { timeoutMs }');
  }
  for (const key of Object.keys(options)) {
    if (!knownOptions.has(key)) {
      throw new InvalidOptionsError(`detector.${key}`, 'is not an option; the option is timeoutMs');
    }
  }
  const { timeoutMs } = options;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidOptionsError(
      'detector.timeoutMs',
      `must be a positive number of ms, got ${String(timeoutMs)}`,
    );
  }

  return {
    kind: 'timeout',
    options: Object.freeze({ timeoutMs }),
    createState: (registeredAt) => new TimeoutState(registeredAt),
    recordHeartbeat(state, at) {
      state.last = at;
    },
    suspicion(state, now) {
      // Clamped: a clock that stepped back does not make a node less than unsuspected.
      return Math.max(0, (now - state.last) / timeoutMs);
    },
    isFailed(state, now) {
      return now - state.last >= timeoutMs;
    },
  };
}
