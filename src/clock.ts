/**
 * The time source of a supervisor: XState's two-method clock plus `now()`. XState's
 * `SimulatedClock` fits it as it is, so tests and the simulator move time by hand.
 */
export interface Clock {
  now(): number;
  // biome-ignore lint/suspicious/noExplicitAny: the shape of XState's Clock, which any timer id fits
  setTimeout(fn: (...args: any[]) => void, timeoutMs: number): any;
  // biome-ignore lint/suspicious/noExplicitAny: see setTimeout
  clearTimeout(id: any): void;
}

/** Wall-clock time and Node's own timers: the default outside tests. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, timeoutMs) => setTimeout(fn, timeoutMs),
  clearTimeout: (id) => clearTimeout(id),
};
