import { describe, expect, it } from 'vitest';
import {
  type ActionRecord,
  defineRule,
  type FleetHealth,
  heartbeatFresh,
  type SupervisorOptions,
  type TickSummary,
} from 'wyneos';
import { SafetyGuard } from '../src/healing/index.js';
import { collect, simulatedSupervisor } from './helpers.js';

const isolateBad = defineRule({
  id: 'no-bad',
  description: 'the bad metric is 0',
  enforcement: 'isolate',
  evaluate: (n) => n.metrics.bad !== 1,
});

/** `count` nodes; `tick(bad)` makes the listed node numbers report bad=1, then ticks. */
function fleet(count: number, options: SupervisorOptions = {}) {
  const f = simulatedSupervisor({ rules: [isolateBad], ...options });
  const records = collect<ActionRecord>(f.sup.actions$);
  const ticks = collect<TickSummary>(f.sup.ticks$);
  const ids = Array.from({ length: count }, (_, i) => `n${i}`);
  f.sup.registerMany(ids.map((id) => ({ id })));
  let seq = 0;
  const tick = (bad: number[] = [], silent: number[] = []) => {
    seq++;
    ids.forEach((nodeId, i) => {
      if (!silent.includes(i)) {
        f.sup.heartbeat({ nodeId, seq, load: 0.1, metrics: { bad: bad.includes(i) ? 1 : 0 } });
      }
    });
    f.advance(1000);
  };
  const isolated = () => f.sup.nodes().filter((n) => n.state === 'isolated').length;
  return { ...f, records, ticks, tick, isolated };
}

describe('safety', () => {
  it('isolates no more than maxIsolatedFraction of the fleet, holds the rest and reports degraded', () => {
    const f = fleet(10, { safety: { maxIsolatedFraction: 0.3 } });
    f.tick([0, 1, 2, 3, 4, 5]);
    expect(f.isolated()).toBe(3);
    const held = f.records.filter((r) => r.status === 'held');
    expect(held.map((r) => [r.nodeId, r.heldBy])).toEqual([
      ['n3', 'maxIsolatedFraction'],
      ['n4', 'maxIsolatedFraction'],
      ['n5', 'maxIsolatedFraction'],
    ]);
    expect(f.ticks.at(-1)).toMatchObject({ held: 3, degraded: ['isolation-cap'] });
  });

  it('does not repeat a held action while it stays held, and applies it under the same id once allowed', () => {
    const f = fleet(10, { safety: { maxIsolatedFraction: 0.1 } });
    f.tick([0, 1]);
    f.tick([0, 1]);
    f.tick([0, 1]);
    const heldN1 = f.records.filter((r) => r.nodeId === 'n1');
    expect(heldN1.map((r) => r.status)).toEqual(['held']);
    f.sup.reinstate('n0');
    f.tick([1]);
    const n1 = f.records.filter((r) => r.nodeId === 'n1');
    expect(n1.map((r) => r.status)).toEqual(['held', 'proposed', 'applied']);
    expect(new Set(n1.map((r) => r.id)).size).toBe(1);
    expect(f.sup.node('n1')?.state).toBe('isolated');
  });

  it('never isolates a protected node automatically, but an operator still can', () => {
    const f = fleet(3);
    f.sup.protect('n0');
    f.tick([0]);
    expect(f.sup.node('n0')?.state).toBe('online');
    expect(f.records.at(-1)).toMatchObject({ nodeId: 'n0', status: 'held', heldBy: 'protected' });
    expect(f.sup.overrides()).toEqual({ protected: ['n0'], pinned: [] });
    f.sup.isolate('n0', 'by hand');
    expect(f.sup.node('n0')?.state).toBe('isolated');
    f.sup.protect('n0', false);
    expect(f.sup.overrides().protected).toEqual([]);
  });

  it('never reinstates a pinned node automatically', () => {
    const guard = new SafetyGuard({
      maxIsolatedFraction: 1,
      maxActionsPerTick: 10,
      maxIsolationsPerMinute: 10,
      partitionFraction: 0.5,
    });
    guard.pin('n0');
    const reinstate = (origin: 'healing' | 'operator') => ({
      origin,
      action: {
        type: 'reinstate' as const,
        nodeId: 'n0',
        reason: 'probation over',
        tick: 1,
        at: 0,
      },
    });
    const review = guard.review([reinstate('healing'), reinstate('operator')], {
      at: 0,
      nodeCount: 10,
      isolated: 1,
      offline: 0,
      recentlyOffline: 0,
      windowMs: 3000,
    });
    expect(review.held.map((h) => h.limit)).toEqual(['pinned']);
    expect(review.approved.map((p) => p.origin)).toEqual(['operator']);
  });

  it('applies at most maxActionsPerTick automatic actions in one tick', () => {
    const f = simulatedSupervisor({
      overload: { high: 0.9, low: 0.5, ticks: 1 },
      safety: { maxActionsPerTick: 2 },
    });
    const records = collect<ActionRecord>(f.sup.actions$);
    f.sup.registerMany(['a', 'b', 'c', 'd'].map((id) => ({ id })));
    for (const nodeId of ['a', 'b', 'c', 'd']) f.sup.heartbeat({ nodeId, seq: 1, load: 0.95 });
    f.advance(1000);
    expect(records.filter((r) => r.status === 'applied')).toHaveLength(2);
    expect(records.filter((r) => r.heldBy === 'maxActionsPerTick')).toHaveLength(2);
  });

  it('limits automatic isolations per minute', () => {
    const f = fleet(10, {
      safety: { maxIsolatedFraction: 1, maxIsolationsPerMinute: 2 },
      // No reinstatement on probation within the test's few minutes.
      escalation: { baseMs: 3_600_000, maxMs: 3_600_000 },
    });
    const all = [0, 1, 2, 3, 4];
    f.tick(all);
    expect(f.isolated()).toBe(2);
    for (let s = 0; s < 58; s++) f.tick(all);
    expect(f.isolated()).toBe(2);
    f.tick(all);
    f.tick(all);
    expect(f.isolated()).toBe(4);
  });

  it('isolates nobody when 60% of the fleet goes silent at once, and reports a partition', () => {
    const f = simulatedSupervisor({
      rules: [heartbeatFresh(2000, { enforcement: 'isolate' })],
      safety: { maxIsolatedFraction: 1 },
    });
    const ticks = collect<TickSummary>(f.sup.ticks$);
    const health = collect<FleetHealth>(f.sup.fleet$);
    const ids = Array.from({ length: 10 }, (_, i) => `n${i}`);
    f.sup.registerMany(ids.map((id) => ({ id })));
    let seq = 0;
    const beat = (silent: (i: number) => boolean) => {
      seq++;
      ids.forEach((nodeId, i) => {
        if (!silent(i)) f.sup.heartbeat({ nodeId, seq, load: 0.1 });
      });
      f.advance(1000);
    };
    beat(() => false);
    for (let s = 0; s < 10; s++) beat((i) => i < 6);
    expect(f.sup.nodes().filter((n) => n.state === 'offline')).toHaveLength(6);
    expect(f.sup.nodes().filter((n) => n.state === 'isolated')).toHaveLength(0);
    expect(ticks.at(-1)?.degraded).toEqual(['partition']);
    for (let s = 0; s < 3; s++) beat(() => false);
    expect(f.sup.nodes().every((n) => n.state === 'online')).toBe(true);
    expect(ticks.at(-1)?.degraded).toEqual([]);
    expect(health.map((h) => [h.status, h.reasons])).toEqual([
      ['fleet-degraded', ['partition']],
      ['fleet-healthy', []],
    ]);
  });

  it('rejects unknown or out-of-range safety options', () => {
    expect(() => simulatedSupervisor({ safety: { maxIsolatedFraction: 2 } })).toThrow(
      /safety.maxIsolatedFraction/,
    );
    expect(() => simulatedSupervisor({ safety: { maxActions: 1 } as never })).toThrow(
      /safety.maxActions/,
    );
  });
});
