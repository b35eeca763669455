import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../src/errors.js';
import {
  defaultPhiAccrualOptions,
  type FailureDetector,
  phi,
  phiAccrualDetector,
  timeoutDetector,
} from '../src/healing/detectors/index.js';

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
  it('declares a node failed exactly at the timeout, counted from its last heartbeat', () => {
    const detector = timeoutDetector({ timeoutMs: 3000 });
    const state = detector.createState(0);
    detector.recordHeartbeat(state, 5000);
    expect(detector.isFailed(state, 7999)).toBe(false);
    expect(detector.isFailed(state, 8000)).toBe(true);
    detector.recordHeartbeat(state, 8000);
    expect(detector.isFailed(state, 8000)).toBe(false);
  });

  it('counts silence from registration until the first heartbeat', () => {
    const detector = timeoutDetector({ timeoutMs: 3000 });
    const state = detector.createState(5000);
    expect(detector.isFailed(state, 7999)).toBe(false);
    expect(detector.isFailed(state, 8000)).toBe(true);
  });

  it('raises timeout suspicion linearly with silence, from 0 at a beat to 1 at the timeout', () => {
    const detector = timeoutDetector({ timeoutMs: 2000 });
    const state = detector.createState(0);
    detector.recordHeartbeat(state, 1000);
    expect([1000, 1500, 2000, 3000, 5000].map((now) => detector.suspicion(state, now))).toEqual([
      0, 0.25, 0.5, 1, 2,
    ]);
  });

  it('raises phi as silence grows', () => {
    const detector = phiAccrualDetector();
    const state = detector.createState(0);
    // Intervals of 500 and 1500 ms in turn: mean 1000, standard deviation 500.
    const times = [0];
    for (let i = 1; i <= 100; i++) times.push((times.at(-1) ?? 0) + (i % 2 === 0 ? 500 : 1500));
    const last = beatAt(detector, state, times);
    const phis = [2000, 3000, 4000, 5000, 6000, 7000].map((t) =>
      detector.suspicion(state, last + t),
    );
    expect(phis[0]).toBeGreaterThan(0);
    for (let i = 1; i < phis.length; i++) {
      expect(phis[i]).toBeGreaterThan(phis[i - 1] ?? Number.POSITIVE_INFINITY);
    }
    expect(phis[2]).toBeCloseTo(Math.log10(2), 12);
  });

  it('keeps phi near 0 for a node that beats regularly', () => {
    const detector = phiAccrualDetector();
    const state = detector.createState(0);
    let highest = 0;
    for (let at = 1000; at <= 600_000; at += 1000) {
      detector.recordHeartbeat(state, at);
      // Just before the next beat is where phi is highest.
      highest = Math.max(highest, detector.suspicion(state, at + 999));
    }
    expect(highest).toBeLessThan(1e-6);
    expect(detector.isFailed(state, 601_000)).toBe(false);
  });

  it('declares a node failed once a long silence takes phi past the threshold', () => {
    const detector = phiAccrualDetector();
    const state = detector.createState(0);
    const last = beatAt(detector, state, every(1000, 101, 0));
    // Mean 1000 + acceptable pause 3000, standard deviation at its floor of 100 ms:
    // phi = 7.30 at 4500 ms of silence, 8 at about 4522 ms.
    expect(detector.isFailed(state, last + 4500)).toBe(false);
    expect(detector.suspicion(state, last + 4500)).toBeCloseTo(7.29995, 4);
    expect(detector.isFailed(state, last + 4600)).toBe(true);
  });

  it('bootstraps from firstHeartbeatEstimateMs until the first interval is known', () => {
    const detector = phiAccrualDetector({ firstHeartbeatEstimateMs: 2000 });
    const state = detector.createState(10_000);
    // Mean 2000 + 3000, standard deviation 2000 / 4.
    expect(detector.suspicion(state, 16_000)).toBe(phi(6000, 5000, 500));
    // The first heartbeat ends no interval: registration is not an arrival.
    detector.recordHeartbeat(state, 30_000);
    expect(state.count).toBe(0);
    expect(detector.suspicion(state, 36_000)).toBe(phi(6000, 5000, 500));
    detector.recordHeartbeat(state, 31_000);
    expect(state.count).toBe(1);
    expect(detector.suspicion(state, 37_000)).toBe(phi(6000, 4000, 100));
  });

  it('forgets intervals older than the window', () => {
    const windowSize = 10;
    const detector = phiAccrualDetector({ windowSize });
    const state = detector.createState(0);
    const old = [5000, 7000, 9000, 4000, 6000, 5000, 8000, 5000, 6000, 7000, 9000, 4000];
    const recent = [900.5, 1100.25, 1000, 950, 1050, 1200, 800, 1000.125, 999, 1001];
    const times = [0];
    for (const interval of [...old, ...recent]) times.push((times.at(-1) ?? 0) + interval);
    const last = beatAt(detector, state, times);

    const samples = recent.map(Math.fround);
    const mean = samples.reduce((a, b) => a + b, 0) / windowSize;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / windowSize;
    expect(state.count).toBe(windowSize);
    expect(Math.abs(state.mean - mean) / mean).toBeLessThan(1e-6);
    expect(Math.abs(state.variance - variance) / variance).toBeLessThan(1e-6);
    const expected = phi(4000, mean + 3000, Math.sqrt(variance));
    expect(Math.abs(detector.suspicion(state, last + 4000) - expected) / expected).toBeLessThan(
      1e-6,
    );
  });

  it('ignores the interval of a heartbeat received before the previous one', () => {
    const detector = phiAccrualDetector();
    const state = detector.createState(0);
    beatAt(detector, state, [1000, 2000, 3000, 2500, 3500]);
    expect(state.count).toBe(3);
    expect(state.last).toBe(3500);
    expect(state.mean).toBe(1000);
  });

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

  it('computes phi as Akka does, close to the exact normal tail within 3 standard deviations', () => {
    // Hand-computed: y = (t - mean) / std, e = exp(-y (1.5976 + 0.070566 y²)), phi = log10(1 + 1/e).
    expect(phi(4000, 4000, 100)).toBeCloseTo(Math.log10(2), 12);
    expect(phi(4100, 4000, 100)).toBeCloseTo(0.7995083, 6);
    expect(phi(4200, 4000, 100)).toBeCloseTo(1.6428279, 6);
    expect(phi(3900, 4000, 100)).toBeCloseTo(0.075033, 6);
    expect(phi(5000, 4000, 250)).toBeCloseTo(4.7366946, 6);
    // -log10 of the exact normal tail, from erfc: 0.79955 at 1 sd, 1.64302 at 2.
    expect(phi(4100, 4000, 100)).toBeCloseTo(0.79955, 3);
    expect(phi(4200, 4000, 100)).toBeCloseTo(1.64302, 3);
    expect(phi(0, 4000, 250)).toBe(0);
    expect(phi(1e9, 4000, 100)).toBe(Number.POSITIVE_INFINITY);
  });

  it('fills in every default', () => {
    expect(phiAccrualDetector().options).toEqual({
      threshold: 8,
      minStdDevMs: 100,
      acceptablePauseMs: 3000,
      windowSize: 100,
      firstHeartbeatEstimateMs: 1000,
    });
    expect(defaultPhiAccrualOptions.windowSize).toBe(100);
    expect(phiAccrualDetector({ acceptablePauseMs: 0 }).options.acceptablePauseMs).toBe(0);
  });

  it.each([
    [{ threshold: 0 }, 'detector.threshold'],
    [{ threshold: Number.NaN }, 'detector.threshold'],
    [{ minStdDevMs: 0 }, 'detector.minStdDevMs'],
    [{ acceptablePauseMs: -1 }, 'detector.acceptablePauseMs'],
    [{ acceptablePauseMs: Number.POSITIVE_INFINITY }, 'detector.acceptablePauseMs'],
    [{ windowSize: 0 }, 'detector.windowSize'],
    [{ windowSize: 2.5 }, 'detector.windowSize'],
    [{ windowSize: 1001 }, 'detector.windowSize'],
    [{ firstHeartbeatEstimateMs: -1000 }, 'detector.firstHeartbeatEstimateMs'],
    [{ treshold: 8 }, 'detector.treshold'],
  ])('names the invalid phi option %o in its error', (options, path) => {
    const attempt = () => phiAccrualDetector(options as never);
    expect(attempt).toThrow(InvalidOptionsError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_OPTIONS', path }));
  });

  it.each([
    [{ timeoutMs: 0 }, 'detector.timeoutMs'],
    [{}, 'detector.timeoutMs'],
    [{ timeoutMs: '3000' }, 'detector.timeoutMs'],
    [{ timeoutMs: 3000, graceMs: 1 }, 'detector.graceMs'],
  ])('names the invalid timeout option %o in its error', (options, path) => {
    const attempt = () => timeoutDetector(options as never);
    expect(attempt).toThrow(InvalidOptionsError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_OPTIONS', path }));
  });
});
