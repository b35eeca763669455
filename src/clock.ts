/**
 * The time source of a supervisor: XState's two-method clock plus `now()`. XState's
 * `SimulatedClock` fits it as it is, so tests and the simulator move time by hand.
 */
export interface Clock {
  /** The current time, in ms since the epoch. */
  now(): number;
  /** Calls `fn` once `timeoutMs` have passed on this clock; returns an id for `clearTimeout`. */
  // biome-ignore lint/suspicious/noExplicitAny: the shape of XState's Clock, which any timer id fits
  setTimeout(fn: (...args: any[]) => void, timeoutMs: number): any;
  /** Cancels a timer that `setTimeout` returned, if it has not fired. */
  // biome-ignore lint/suspicious/noExplicitAny: see setTimeout
  clearTimeout(id: any): void;
}

/**
 * The default outside tests: the wall-clock time at which the process started, advanced by the
 * monotonic clock (`performance.now()`), and Node's own timers. Every deadline (heartbeat
 * silence, backoff, probation, licences, rate limits, late ticks) is measured on it, so a step
 * of the system clock after the start (a time sync, an operator's `date -s`) moves none of
 * them; the times it gives people stay wall-clock times to within that step.
 */
export const systemClock: Clock = {
  // Whole milliseconds, as Date.now() gave: times are stored and compared as integers.
  now: () => Math.floor(performance.timeOrigin + performance.now()),
  setTimeout: (fn, timeoutMs) => setTimeout(fn, timeoutMs),
  clearTimeout: (id) => clearTimeout(id),
};
