import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSupervisor, type NodeTransition } from 'wyneos';
import { captureLogger, collect, silentLogger, simulatedSupervisor } from './helpers.js';

describe('detection', () => {
  it('reports every crashed node offline within timeout + one tick (fixed timeout)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 2000 }),
        fc.double({ min: 1.01, max: 5, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 8 }),
        (tickMs, timeoutTicks, crashTicks) => {
          const heartbeatTimeoutMs = Math.ceil(tickMs * timeoutTicks);
          const { sup, advance } = simulatedSupervisor({ tickMs, heartbeatTimeoutMs });
          const transitions = collect<NodeTransition>(sup.transitions$);
          const ids = crashTicks.map((_, i) => `n${i}`);
          sup.registerMany(ids.map((id) => ({ id })));
          const lastBeat = new Map<string, number>();
          const horizon = Math.max(...crashTicks) + Math.ceil(timeoutTicks) + 3;
          for (let t = 0; t < horizon; t++) {
            ids.forEach((id, i) => {
              if (t < (crashTicks[i] as number)) {
                sup.heartbeat({ nodeId: id, seq: t + 1, load: 0.1 });
                lastBeat.set(id, t * tickMs);
              }
            });
            advance(tickMs);
          }
          for (const id of ids) {
            const offline = transitions.find((tr) => tr.nodeId === id && tr.to === 'offline');
            expect(offline, id).toBeDefined();
            const silentSince = lastBeat.get(id) ?? 0;
            expect((offline?.at ?? 0) - silentSince).toBeLessThanOrEqual(
              heartbeatTimeoutMs + tickMs,
            );
            expect((offline?.at ?? 0) - silentSince).toBeGreaterThanOrEqual(heartbeatTimeoutMs);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('exposes the detector’s suspicion in every view and snapshot', () => {
    const { sup, advance } = simulatedSupervisor({ tickMs: 1000, heartbeatTimeoutMs: 4000 });
    sup.register({ id: 'a' });
    sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.1 });
    expect(sup.node('a')?.suspicion).toBe(0);
    advance(2000);
    expect(sup.node('a')?.suspicion).toBe(0.5);
  });

  it('with phi accrual, learns a node’s rhythm and declares it offline when it stops', () => {
    const { sup, advance } = simulatedSupervisor({
      tickMs: 1000,
      heartbeatTimeoutMs: 3000,
      detector: { kind: 'phi', threshold: 8, acceptablePauseMs: 3000 },
    });
    const transitions = collect<NodeTransition>(sup.transitions$);
    sup.register({ id: 'a' });
    for (let seq = 1; seq <= 60; seq++) {
      sup.heartbeat({ nodeId: 'a', seq, load: 0.1 });
      advance(1000);
    }
    expect(sup.node('a')?.state).toBe('online');
    // A pause longer than the fixed timeout, shorter than phi's patience: still online.
    advance(3000);
    expect(sup.node('a')?.state).toBe('online');
    expect(sup.node('a')?.suspicion).toBeGreaterThan(0);
    advance(10_000);
    expect(sup.node('a')?.state).toBe('offline');
    expect(transitions.at(-1)?.reason).toMatch(
      /^phi \d+\.\d reached 8 after \d+ ms without a heartbeat$/,
    );
  });

  it('with phi accrual, still detects a crash within seconds after a 5-minute pause and recovery', () => {
    const { sup, advance } = simulatedSupervisor({
      tickMs: 1000,
      heartbeatTimeoutMs: 3000,
      detector: { kind: 'phi' },
    });
    const transitions = collect<NodeTransition>(sup.transitions$);
    sup.register({ id: 'a' });
    let seq = 0;
    const beatFor = (seconds: number) => {
      for (let i = 0; i < seconds; i++) {
        sup.heartbeat({ nodeId: 'a', seq: ++seq, load: 0.1 });
        advance(1000);
      }
    };
    beatFor(1000);
    advance(300_000);
    expect(sup.node('a')?.state).toBe('offline');
    beatFor(60);
    expect(sup.node('a')?.state).toBe('online');
    // The node crashes: its last heartbeat was one tick ago.
    const lastBeatAt = sup.node('a')?.lastHeartbeatAt ?? 0;
    advance(10_000);
    const crash = transitions.at(-1);
    expect(crash?.to).toBe('offline');
    // Phi 8 at ~4.5 s of silence, seen at the next tick. Had the 300 s interval stayed in the
    // window, it would have taken 163 s.
    expect((crash?.at ?? 0) - lastBeatAt).toBeLessThanOrEqual(6000);
  });

  it('does not count silence from while the supervisor itself was not watching', () => {
    const { logger, lines } = captureLogger('warn');
    const { sup, clock, advance } = simulatedSupervisor({
      tickMs: 1000,
      heartbeatTimeoutMs: 3000,
      logger,
    });
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    for (let seq = 1; seq <= 5; seq++) {
      sup.heartbeat({ nodeId: 'a', seq, load: 0.1 });
      sup.heartbeat({ nodeId: 'b', seq, load: 0.1 });
      advance(1000);
    }
    // The event loop is blocked for 8 s: the next tick fires that late, all at once.
    clock.increment(8000);
    expect(sup.nodes().map((n) => n.state)).toEqual(['online', 'online']);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: expect.stringMatching(/tick was late/), lateMs: 7000 }),
    );
    // Afterwards time counts again: a beats, b stays silent and goes offline in due course.
    for (let seq = 6; seq <= 9; seq++) {
      sup.heartbeat({ nodeId: 'a', seq, load: 0.1 });
      advance(1000);
    }
    expect(sup.nodes().map((n) => n.state)).toEqual(['online', 'offline']);
  });

  it('rejects an unknown detector and bad phi options with the option named', () => {
    expect(() => simulatedSupervisor({ detector: 'gossip' as never })).toThrow(/detector/);
    expect(() => simulatedSupervisor({ detector: { kind: 'phi', threshold: -1 } })).toThrow(
      /detector.threshold/,
    );
  });

  it('reports event-loop lag on real time, and none on a simulated clock', async () => {
    const real = createSupervisor({
      logger: silentLogger,
      tickMs: 60_000,
      heartbeatTimeoutMs: 180_000,
    });
    real.start();
    expect(real.tick().eventLoopLagMs).toEqual(expect.any(Number));
    await real.stop();
    const { sup } = simulatedSupervisor();
    expect(sup.tick().eventLoopLagMs).toBeUndefined();
  });
});
