import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ActionRecord, defineRule, type NodeSnapshot, type NodeTransition } from 'wyneos';
import { createNodeSnapshot } from 'wyneos/testing';
import { escalate } from '../src/healing/index.js';
import { collect, simulatedSupervisor } from './helpers.js';

const noBad = defineRule({
  id: 'no-bad',
  description: 'the bad metric is 0',
  enforcement: 'isolate',
  evaluate: (n) => n.metrics.bad !== 1,
});

const escalation = { baseMs: 10_000, multiplier: 2, maxMs: 60_000, jitter: 0, probationMs: 5000 };

function fleet() {
  const f = simulatedSupervisor({ rules: [noBad], escalation, safety: { maxIsolatedFraction: 1 } });
  const transitions = collect<NodeTransition>(f.sup.transitions$);
  const records = collect<ActionRecord>(f.sup.actions$);
  f.sup.registerMany([{ id: 'a' }, { id: 'b' }]);
  let seq = 0;
  /** One second: each node beats (bad or not) unless silent. */
  const second = (a: 'ok' | 'bad' | 'silent', b: 'ok' | 'bad' | 'silent' = 'ok') => {
    seq++;
    for (const [nodeId, how] of [
      ['a', a],
      ['b', b],
    ] as const) {
      if (how !== 'silent')
        f.sup.heartbeat({ nodeId, seq, load: 0.1, metrics: { bad: how === 'bad' ? 1 : 0 } });
    }
    f.advance(1000);
  };
  return { ...f, transitions, records, second };
}

describe('escalating isolation', () => {
  it('reinstates an automatically isolated node on probation after the backoff', () => {
    const f = fleet();
    f.second('bad');
    expect(f.sup.node('a')).toMatchObject({
      state: 'isolated',
      escalation: 1,
      reinstateAt: 11_000,
    });
    for (let s = 0; s < 9; s++) f.second('ok');
    expect(f.sup.node('a')?.state).toBe('isolated');
    f.second('ok');
    expect(f.sup.node('a')).toMatchObject({
      state: 'online',
      reason: 'backoff over after isolation 1: reinstated on probation',
      probationUntil: 16_000,
    });
    expect(
      f.records.filter((r) => r.type === 'reinstate').map((r) => [r.origin, r.status]),
    ).toEqual([
      ['healing', 'proposed'],
      ['healing', 'applied'],
    ]);
  });

  it('sends a node that fails again soon after straight back, for twice as long', () => {
    const f = fleet();
    f.second('bad');
    for (let s = 0; s < 10; s++) f.second('ok');
    expect(f.sup.node('a')?.state).toBe('online');
    f.second('bad');
    expect(f.sup.node('a')).toMatchObject({
      state: 'isolated',
      escalation: 2,
      reinstateAt: 32_000,
    });
  });

  it('sends a node that goes silent on probation straight back to isolation', () => {
    const f = fleet();
    f.second('bad');
    for (let s = 0; s < 10; s++) f.second('ok');
    expect(f.sup.node('a')?.state).toBe('online');
    for (let s = 0; s < 3; s++) f.second('silent');
    expect(f.sup.node('a')).toMatchObject({ state: 'isolated', escalation: 2 });
    expect(f.transitions.slice(-2).map((t) => `${t.from}->${t.to}`)).toEqual([
      'online->offline',
      'offline->isolated',
    ]);
  });

  it('never ends an operator’s isolation, nor reinstates a pinned node, on its own', () => {
    const f = fleet();
    f.sup.isolate('b', 'maintenance');
    f.second('bad');
    f.sup.pin('a');
    for (let s = 0; s < 30; s++) f.second('ok');
    expect(f.sup.node('b')).toMatchObject({ state: 'isolated', reinstateAt: undefined });
    expect(f.sup.node('a')?.state).toBe('isolated');
    expect(f.records.filter((r) => r.status === 'held').map((r) => [r.nodeId, r.heldBy])).toEqual([
      ['a', 'pinned'],
    ]);
  });

  it('computes the backoff as base × multiplier^(n-1), capped, within the jitter', () => {
    const node = (escalationLevel: number, probationUntil?: number): NodeSnapshot =>
      createNodeSnapshot({ id: 'n', escalation: escalationLevel, probationUntil });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.boolean(),
        (level, jitter, recent) => {
          const options = {
            baseMs: 1000,
            multiplier: 3,
            maxMs: 100_000,
            jitter,
            probationMs: 10,
            resetAfterMs: 50,
          };
          const at = 1_000_000;
          const out = escalate(node(level, recent ? at - 10 : at - 1000), at, options);
          const n = recent ? level + 1 : 1;
          expect(out.escalation).toBe(n);
          const backoff = Math.min(100_000, 1000 * 3 ** (n - 1));
          expect(out.reinstateAt - at).toBeGreaterThanOrEqual(Math.floor(backoff * (1 - jitter)));
          expect(out.reinstateAt - at).toBeLessThanOrEqual(Math.ceil(backoff * (1 + jitter)));
        },
      ),
    );
  });
});

describe('flapping', () => {
  it('isolates a node that keeps going offline and back, and lets it back once it holds still', () => {
    const f = simulatedSupervisor({
      tickMs: 1000,
      heartbeatTimeoutMs: 2000,
      flapping: { maxTransitions: 4, windowMs: 60_000, holdMs: 30_000 },
      escalation: { jitter: 0 },
      // A fleet of one is all offline whenever its node is: no partition guard here.
      safety: { partitionFraction: 1 },
    });
    const transitions = collect<NodeTransition>(f.sup.transitions$);
    f.sup.register({ id: 'a' });
    let seq = 0;
    // Two seconds silent (offline), one second beating (back): over and over.
    for (let cycle = 0; cycle < 4; cycle++) {
      f.advance(2000);
      f.sup.heartbeat({ nodeId: 'a', seq: ++seq, load: 0.1 });
      f.advance(1000);
    }
    expect(f.sup.node('a')).toMatchObject({ state: 'isolated' });
    expect(f.sup.node('a')?.reason).toMatch(/^flapping: 5 transitions in 60000 ms$/);
    const isolatedAt = transitions.at(-1)?.at ?? 0;
    // Steady heartbeats: reinstated once the hold is over, not before.
    while ((f.clock.now() as number) < isolatedAt + 29_000) {
      f.sup.heartbeat({ nodeId: 'a', seq: ++seq, load: 0.1 });
      f.advance(1000);
    }
    expect(f.sup.node('a')?.state).toBe('isolated');
    for (let s = 0; s < 2; s++) {
      f.sup.heartbeat({ nodeId: 'a', seq: ++seq, load: 0.1 });
      f.advance(1000);
    }
    expect(f.sup.node('a')?.state).toBe('online');
  });
});
