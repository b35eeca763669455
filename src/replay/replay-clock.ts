import type { Clock } from '../clock.js';

/**
 * The replay's clock: simulated time that a replay moves to each entry's receive time. Unlike
 * XState's SimulatedClock, moving on costs nothing when no timer falls due (most entries), and
 * each timer fires at its own time, in order.
 */
export class ReplayClock implements Clock {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  // The earliest due time, or Infinity: recomputed only when a timer fires or goes.
  private due = Number.POSITIVE_INFINITY;

  now(): number {
    return this.time;
  }

  setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id = this.nextId++;
    const at = this.time + Math.max(0, timeout);
    this.timers.set(id, { at, fn });
    if (at < this.due) this.due = at;
    return id;
  }

  clearTimeout(id: number): void {
    const timer = this.timers.get(id);
    if (timer === undefined) return;
    this.timers.delete(id);
    if (timer.at === this.due) this.due = this.earliest();
  }

  /** Sets the time without firing anything: only before the first timer is set. */
  set(ms: number): void {
    this.time = ms;
  }

  /** Moves to `to`, firing every timer due on the way at its own time (earliest, then oldest). */
  advance(to: number): void {
    while (this.due <= to) {
      let first: number | undefined;
      let firstAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.timers) {
        if (timer.at < firstAt) {
          first = id;
          firstAt = timer.at;
        }
      }
      const timer = this.timers.get(first as number) as { at: number; fn: () => void };
      this.timers.delete(first as number);
      this.time = Math.max(this.time, timer.at);
      this.due = this.earliest();
      timer.fn();
    }
    if (to > this.time) this.time = to;
  }

  private earliest(): number {
    let at = Number.POSITIVE_INFINITY;
    for (const timer of this.timers.values()) if (timer.at < at) at = timer.at;
    return at;
  }
}
