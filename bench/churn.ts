/**
 * The churn the issue 16 budgets are stated for, and the timing of ticks under it, shared by
 * every side that `bench/scenarios/core-budgets.ts` measures (supervisor and lean reference).
 *
 * Each node runs hot for `hotTicks` ticks out of every `period`, its phase set by its index:
 * it goes overloaded on its third hot tick and recovers on the third tick after, so on every
 * tick 1/200 of the fleet goes overloaded and 1/200 recovers: 1 % changes state (as in
 * `bench/scenarios/tick.ts`). Every node beats before every tick, with load and four metrics.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { NodeSnapshot } from 'wyneos';
import type { ReusableBeat } from './supervised-fleet.js';

const period = 200;
const hotTicks = 5;
const hotLoad = 0.96;
/** Ticks that let the streaks of the churn settle before anything is timed. */
export const warmUpTicks = 8;

/** Feeds one heartbeat per node per call, each with its load for the next tick. */
export class ChurnFeed {
  private t = 0;
  private readonly calm: Float64Array;

  constructor(
    private readonly beats: readonly ReusableBeat[],
    nodes: readonly NodeSnapshot[],
    low: number,
  ) {
    // Capped at the low mark, so every node recovers once its hot ticks are over.
    this.calm = Float64Array.from(nodes, (n) => Math.min(n.load, low));
    if (nodes.length % period !== 0) {
      throw new Error(`the churn needs a fleet size divisible by ${period}, not ${nodes.length}`);
    }
  }

  /** Every node beats once through `send`, with the next seq. */
  feed(send: (beat: ReusableBeat) => void): void {
    const t = ++this.t;
    const { beats, calm } = this;
    for (let i = 0; i < beats.length; i++) {
      const beat = beats[i] as ReusableBeat;
      beat.seq = t;
      beat.load = (t + i) % period < hotTicks ? hotLoad : (calm[i] as number);
      send(beat);
    }
  }
}

export interface TickTimes {
  /** Per timed tick, ms. */
  readonly samples: readonly number[];
  /** GC pause time (perf_hooks `gc` entries) that started within the timed ticks, ms. */
  readonly gcMs: number;
  /** Transitions per timed tick. */
  readonly transitions: readonly number[];
}

/**
 * Warms up, then times `count` ticks, each after a feed (untimed). GC entries reach the
 * observer asynchronously, so they are gathered after the loop and matched to the tick windows
 * by start time.
 */
export async function timeTicks(
  count: number,
  feed: () => void,
  tick: () => number,
): Promise<TickTimes> {
  for (let k = 0; k < warmUpTicks; k++) {
    feed();
    tick();
  }
  const gc: { start: number; duration: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push({ start: e.startTime, duration: e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  const windows: [number, number][] = [];
  const transitions: number[] = [];
  for (let k = 0; k < count; k++) {
    feed();
    const start = performance.now();
    transitions.push(tick());
    windows.push([start, performance.now()]);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  let gcMs = 0;
  for (const entry of gc) {
    const inside = windows.find(([from, to]) => entry.start >= from && entry.start <= to);
    // A pause that outlasts its tick is counted only up to the tick's end.
    if (inside !== undefined) gcMs += Math.min(entry.duration, inside[1] - entry.start);
  }
  return { samples: windows.map(([from, to]) => to - from), gcMs, transitions };
}
