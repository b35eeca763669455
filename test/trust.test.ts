import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defineRule,
  evaluateRules,
  InvalidOptionsError,
  type Severity,
  trustAtLeast,
} from 'wyneos';
import { createNodeSnapshot } from 'wyneos/testing';
import { simulatedSupervisor } from './helpers.js';

const minute = 60_000;

/** A rule that fails node `a` with this severity while `failing()` says so. */
function switchable(severity: Severity, failing: () => boolean) {
  return defineRule({
    id: `bad-${severity}`,
    description: 'fails on demand',
    severity,
    evaluate: (n) => n.id !== 'a' || !failing(),
  });
}

describe('trust', () => {
  it('falls by the weight of each rule a node starts failing, holds while it fails, and recovers slowly after', () => {
    let failing = false;
    const { sup, advance } = simulatedSupervisor({
      rules: [switchable('critical', () => failing), switchable('medium', () => failing)],
      trust: { recoveryPerMinute: 0.1, goodStandingMs: minute },
      heartbeatTimeoutMs: 60 * minute,
    });
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    expect(sup.node('a')?.trust).toBe(1);
    failing = true;
    advance(1000); // both rules start failing: 1 - 0.3 - 0.05
    expect(sup.node('a')?.trust).toBeCloseTo(0.65);
    expect(sup.node('b')?.trust).toBe(1);
    advance(5 * minute); // still failing: no further cost, and no recovery either
    expect(sup.node('a')?.trust).toBeCloseTo(0.65);
    failing = false;
    advance(minute); // good standing not yet long enough
    expect(sup.node('a')?.trust).toBeCloseTo(0.65);
    advance(2 * minute); // then 0.1 a minute
    expect(sup.node('a')?.trust).toBeCloseTo(0.85, 1);
    advance(10 * minute);
    expect(sup.node('a')?.trust).toBe(1);
    const explained = sup.explainTrust('a');
    expect(explained.entries.map((e) => [e.kind, e.delta])).toEqual([
      ['rule', expect.closeTo(-0.3)],
      ['rule', expect.closeTo(-0.05)],
    ]);
    expect(explained.entries[0]?.detail).toBe('bad-critical (critical) started failing');
    expect(explained.recovering).toMatchObject({ delta: expect.closeTo(0.35) });
  });

  it('counts offline incidents, rejected heartbeats and reported impersonation', () => {
    const { sup, advance } = simulatedSupervisor({ heartbeatTimeoutMs: 3000 });
    sup.registerMany([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    sup.heartbeat({ nodeId: 'b', seq: 5, load: 0.1 });
    expect(() => sup.heartbeat({ nodeId: 'b', seq: 4, load: 0.1 })).toThrow();
    expect(() => sup.heartbeat({ nodeId: 'b', seq: 6, load: 7 })).toThrow();
    sup.reportIncident('c', 'impersonation', 'heartbeat as a');
    advance(1000);
    expect(sup.explainTrust('b').entries.map((e) => e.kind)).toEqual([
      'rejectedHeartbeat',
      'rejectedHeartbeat',
    ]);
    expect(sup.node('b')?.trust).toBeCloseTo(0.96);
    expect(sup.node('c')?.trust).toBeCloseTo(0.7);
    for (let t = 0; t < 4; t++) {
      sup.heartbeat({ nodeId: 'b', seq: 10 + t, load: 0.1 });
      sup.heartbeat({ nodeId: 'c', seq: 10 + t, load: 0.1 });
      advance(1000);
    }
    expect(sup.node('a')?.state).toBe('offline');
    expect(sup.explainTrust('a').entries).toMatchObject([
      { kind: 'offline', delta: expect.closeTo(-0.1) },
    ]);
  });

  it('lets a rule isolate a node whose trust fell below a threshold', () => {
    let flip = false;
    const { sup, advance } = simulatedSupervisor({
      rules: [trustAtLeast(0.5, { enforcement: 'isolate' }), switchable('high', () => flip)],
      heartbeatTimeoutMs: 10 * minute,
      safety: { maxIsolatedFraction: 1 },
    });
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    // The high rule starts failing every other tick: 0.85, 0.70, 0.55, then 0.40 at tick 7.
    for (let t = 1; t <= 7; t++) {
      flip = t % 2 === 1;
      advance(1000);
    }
    expect(sup.node('a')?.trust).toBeCloseTo(0.4);
    expect(sup.node('a')?.state).toBe('online'); // the rule sees the previous tick's score
    advance(1000);
    expect(sup.node('a')).toMatchObject({
      state: 'isolated',
      reason: expect.stringMatching(/trust/),
    });
    expect(sup.node('b')?.state).toBe('online');
  });

  it('reads trust from the snapshot in trustAtLeast', () => {
    const report = evaluateRules(
      { version: 'v', rules: [trustAtLeast(0.6)] },
      {
        tick: 1,
        at: 0,
        nodes: [createNodeSnapshot({ id: 'x', trust: 0.59 }), createNodeSnapshot({ id: 'y' })],
      },
    );
    expect(report.results.map((r) => [r.nodeId, r.outcome])).toEqual([['x', 'fail']]);
  });

  it('refuses trust options out of range', () => {
    expect(() => simulatedSupervisor({ trust: { weights: { critical: 2 } } })).toThrow(
      InvalidOptionsError,
    );
    expect(() => simulatedSupervisor({ trust: { weights: { bogus: 1 } as never } })).toThrow(
      /trust.weights.bogus/,
    );
    expect(() => simulatedSupervisor({ trust: { recoveryPerMinute: -1 } })).toThrow(
      /recoveryPerMinute/,
    );
  });

  it('stays in [0, 1] and never rises on a tick with a critical failure, new or continuing (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('critical', 'medium', 'none', 'offline-beat'), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 5000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (script, recoveryPerMinute, goodStandingMs, critical) => {
          let step: string = 'none';
          const { sup, advance } = simulatedSupervisor({
            rules: [
              switchable('critical', () => step === 'critical'),
              switchable('medium', () => step === 'medium'),
            ],
            trust: { recoveryPerMinute, goodStandingMs, weights: { critical } },
            heartbeatTimeoutMs: 3000,
          });
          sup.registerMany([{ id: 'a' }]);
          let seq = 0;
          let before = 1;
          for (const next of script) {
            step = next;
            if (step !== 'offline-beat') sup.heartbeat({ nodeId: 'a', seq: seq++, load: 0.5 });
            advance(1000);
            const trust = sup.node('a')?.trust as number;
            expect(trust).toBeGreaterThanOrEqual(0);
            expect(trust).toBeLessThanOrEqual(1);
            if (step === 'critical') expect(trust).toBeLessThanOrEqual(before);
            before = trust;
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
