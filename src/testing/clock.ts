import type { SimulatedClock } from 'xstate';

/**
 * Moves a simulated clock on by `ms` in steps of at most `stepMs`, so every timer due on the
 * way fires at its own time. XState's `SimulatedClock.increment` sets the time to the end
 * before it fires anything, so one big increment would run every tick at the final time.
 */
export function advanceClock(clock: SimulatedClock, ms: number, stepMs: number): void {
  if (!(ms >= 0) || !(stepMs > 0)) {
    throw new RangeError(`advanceClock: ms must be >= 0 and stepMs > 0 (got ${ms}, ${stepMs})`);
  }
  let left = ms;
  while (left > 0) {
    const step = Math.min(stepMs, left);
    clock.increment(step);
    left -= step;
  }
}
