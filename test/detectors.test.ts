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
