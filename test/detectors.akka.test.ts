import { describe, expect, it } from 'vitest';
import { type FailureDetector, phiAccrualDetector } from '../src/healing/detectors/index.js';

/** Feeds heartbeats received at `times`; returns the time of the last one. */
function beatAt<S>(detector: FailureDetector<S>, state: S, times: readonly number[]): number {
  for (const at of times) detector.recordHeartbeat(state, at);
  return times.at(-1) ?? Number.NaN;
}

/** Arrival times one `interval` apart, starting at `start`. */
function every(interval: number, count: number, start: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i * interval);
}

describe('detectors', () => {
  // Akka's AccrualFailureDetectorSpec, case by case, on explicit timestamps. Its detector takes
  // no acceptable pause unless a case sets one. Unlike Akka, silence counts from registration
  // (a node that never beats is failed, not "unmonitored"); each state here is created at 0.
  const akka = (options: Parameters<typeof phiAccrualDetector>[0] = {}) =>
    phiAccrualDetector({ acceptablePauseMs: 0, windowSize: 1000, ...options });

  it('bases phi on firstHeartbeatEstimateMs after a single heartbeat, as Akka does', () => {
    const detector = akka();
    const state = detector.createState(0);
    detector.recordHeartbeat(state, 0);
    expect(detector.suspicion(state, 1000)).toBeCloseTo(0.3, 1);
    expect(Math.abs(detector.suspicion(state, 2000) - 4.5)).toBeLessThanOrEqual(0.3);
    expect(detector.suspicion(state, 3000)).toBeGreaterThan(15);
  });

  it('fails a node with threshold 3 that beat at 0, 1000 and 1100 ms by 8200 ms, not at 1200', () => {
    const detector = akka({ threshold: 3 });
    const state = detector.createState(0);
    beatAt(detector, state, [0, 1000, 1100]);
    expect(detector.isFailed(state, 1200)).toBe(false);
    expect(detector.isFailed(state, 8200)).toBe(true);
  });

  it('tolerates a 4 s gap after 1 s beats within an acceptable pause of 3 s', () => {
    const detector = akka({ acceptablePauseMs: 3000 });
    const state = detector.createState(0);
    beatAt(detector, state, [0, 1000, 2000, 3000]);
    expect(detector.isFailed(state, 7000)).toBe(false);
    detector.recordHeartbeat(state, 8000);
    expect(detector.isFailed(state, 9000)).toBe(false);
  });

  it('fails a node beating every second after 5 s of silence, past an acceptable pause of 3 s', () => {
    const detector = akka({ acceptablePauseMs: 3000 });
    const state = detector.createState(0);
    beatAt(detector, state, [0, 1000, 2000, 3000, 4000, 5000, 6000]);
    expect(detector.isFailed(state, 6500)).toBe(false);
    expect(detector.isFailed(state, 11_000)).toBe(true);
  });

  it('leaves out the interval that ends an outage, so a crash after recovery is still detected', () => {
    const detector = akka({ acceptablePauseMs: 3000 });
    const state = detector.createState(0);
    // 1,000 beats a second apart, then a 5-minute pause.
    const last = beatAt(detector, state, every(1000, 1000, 0));
    expect(detector.isFailed(state, last + 300_000)).toBe(true);
    detector.recordHeartbeat(state, last + 300_100);
    expect(state.count).toBe(999);
    expect(detector.isFailed(state, last + 301_000)).toBe(false);
    detector.recordHeartbeat(state, last + 301_100);
    // Then 7 s of silence: failed again, as the history is still one of 1 s beats.
    expect(detector.isFailed(state, last + 308_100)).toBe(true);
    detector.recordHeartbeat(state, last + 308_200);
    expect(detector.isFailed(state, last + 309_100)).toBe(false);
    detector.recordHeartbeat(state, last + 309_200);
    expect(detector.isFailed(state, last + 310_100)).toBe(false);
    expect(state.count).toBe(1000);
    expect(state.mean).toBe(1000);
  });

  it('detects a crash within seconds after a 5-minute pause and recovery', () => {
    for (const windowSize of [100, 1000]) {
      const detector = phiAccrualDetector({ windowSize });
      const state = detector.createState(0);
      const beforePause = beatAt(detector, state, every(1000, 1000, 0));
      const last = beatAt(detector, state, every(1000, 60, beforePause + 300_000));
      let silence = 0;
      while (!detector.isFailed(state, last + silence)) silence += 100;
      // Mean 1000 + acceptable pause 3000, standard deviation at its floor: phi 8 at ~4522 ms.
      // Had the 300 s interval been kept, it would take 54 s (window 1000) or 163 s (100).
      expect(silence, `window ${windowSize}`).toBe(4600);
    }
  });

  it('uses only the latest windowSize intervals, as Akka does with maxSampleSize', () => {
    const detector = akka({ windowSize: 3 });
    const state = detector.createState(0);
    beatAt(detector, state, [0, 100, 200, 300]);
    const before = detector.suspicion(state, 400);
    // The 700 ms interval ends while the node is failed, and is not kept; the 500 ms intervals
    // then fill the window.
    beatAt(detector, state, [1000, 1500, 2000, 2500]);
    expect(detector.suspicion(state, 3000)).toBeCloseTo(before, 3);
  });

  it('keeps the mean and variance of the intervals as Akka’s HeartbeatHistory does', () => {
    const history = (windowSize: number, intervals: readonly number[]) => {
      const detector = phiAccrualDetector({ windowSize });
      const state = detector.createState(0);
      const times = [0];
      for (const interval of intervals) times.push((times.at(-1) ?? 0) + interval);
      beatAt(detector, state, times);
      return [state.mean, state.variance];
    };
    const [mean, variance] = history(20, [100, 200, 125, 340, 130]);
    expect(mean).toBeCloseTo(179, 5);
    expect(variance).toBeCloseTo(7584, 5);
    expect(history(600, [1000])[1]).toBe(0);
    // Capped at the window.
    const cases: Array<[number[], number, number]> = [
      [[100, 110, 90], 100, 66.6666667],
      [[100, 110, 90, 140], 113.333333, 422.222222],
      [[100, 110, 90, 140, 80], 103.333333, 688.88888889],
    ];
    for (const [intervals, m, v] of cases) {
      const [actualMean, actualVariance] = history(3, intervals);
      expect(actualMean).toBeCloseTo(m, 5);
      expect(actualVariance).toBeCloseTo(v, 5);
    }
  });

  it('learns a slow rhythm only when firstHeartbeatEstimateMs is near it, as Akka needs', () => {
    const times = every(10_000, 20, 0);
    // Every 10 s: with the 1 s estimate each interval ends while the node counts as failed.
    const guessed = phiAccrualDetector();
    const unlearned = guessed.createState(0);
    beatAt(guessed, unlearned, times);
    expect(unlearned.count).toBe(0);
    expect(guessed.isFailed(unlearned, 190_000 + 6000)).toBe(true);
    const told = phiAccrualDetector({ firstHeartbeatEstimateMs: 10_000 });
    const learned = told.createState(0);
    beatAt(told, learned, times);
    expect(learned.count).toBe(19);
    expect(told.isFailed(learned, 190_000 + 6000)).toBe(false);
  });
});
