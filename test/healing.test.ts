import { describe, expect, it } from 'vitest';
import type { NodeTransition } from 'wyneos';
import { collect, collectApplied, simulatedSupervisor } from './helpers.js';

describe('healing', () => {
  it('declares a silent node offline at the first tick at or after the heartbeat timeout', () => {
    const { sup, advance } = simulatedSupervisor({ tickMs: 1000, heartbeatTimeoutMs: 2500 });
    const transitions = collect<NodeTransition>(sup.transitions$);
    sup.register({ id: 'quiet' });
    sup.heartbeat({ nodeId: 'quiet', seq: 1, load: 0.2 });
    advance(2000);
    expect(sup.node('quiet')?.state).toBe('online');
    advance(1000);
    expect(sup.node('quiet')).toMatchObject({
      state: 'offline',
      since: 3000,
      reason: 'no heartbeat for 3000 ms (timeout 2500 ms)',
    });
    expect(transitions).toEqual([
      {
        nodeId: 'quiet',
        from: 'online',
        to: 'offline',
        reason: 'no heartbeat for 3000 ms (timeout 2500 ms)',
        at: 3000,
        tick: 3,
      },
    ]);
  });

  it('measures silence on its own clock at receive time, from registration if no beat came', () => {
    const { sup, advance } = simulatedSupervisor({ tickMs: 1000, heartbeatTimeoutMs: 3000 });
    advance(5000);
    sup.register({ id: 'late' });
    advance(2000);
    expect(sup.node('late')?.state).toBe('online');
    advance(1000);
    expect(sup.node('late')?.state).toBe('offline');
  });

  it('brings an offline node back when it heartbeats again', () => {
    const { sup, advance } = simulatedSupervisor();
    sup.register({ id: 'n' });
    advance(3000);
    expect(sup.node('n')?.state).toBe('offline');
    sup.heartbeat({ nodeId: 'n', seq: 1, load: 0.1 });
    expect(sup.node('n')?.state).toBe('offline');
    advance(1000);
    expect(sup.node('n')).toMatchObject({ state: 'online', reason: 'heartbeats resumed' });
  });

  it('overloads a node after `ticks` ticks at or over high, with a reduce-load action', () => {
    const { sup, advance } = simulatedSupervisor({ overload: { high: 0.8, low: 0.5, ticks: 2 } });
    const actions = collectApplied(sup);
    sup.register({ id: 'hot' });
    sup.heartbeat({ nodeId: 'hot', seq: 1, load: 0.8 });
    advance(1000);
    expect(sup.node('hot')?.state).toBe('online');
    sup.heartbeat({ nodeId: 'hot', seq: 2, load: 0.85 });
    advance(1000);
    expect(sup.node('hot')?.state).toBe('overloaded');
    expect(actions).toEqual([
      {
        type: 'reduce-load',
        nodeId: 'hot',
        reason: 'load at or over 0.8 for 2 ticks',
        tick: 2,
        at: 2000,
      },
    ]);
  });

  it('needs consecutive ticks: a dip below high starts the count again', () => {
    const { sup, advance } = simulatedSupervisor({ overload: { high: 0.9, low: 0.7, ticks: 3 } });
    sup.register({ id: 'n' });
    const loads = [0.95, 0.95, 0.85, 0.95, 0.95];
    loads.forEach((load, i) => {
      sup.heartbeat({ nodeId: 'n', seq: i + 1, load });
      advance(1000);
    });
    expect(sup.node('n')?.state).toBe('online');
    sup.heartbeat({ nodeId: 'n', seq: 6, load: 0.95 });
    advance(1000);
    expect(sup.node('n')?.state).toBe('overloaded');
  });

  it('keeps an overloaded node overloaded between the marks (hysteresis) and recovers it under low', () => {
    const { sup, advance } = simulatedSupervisor({ overload: { high: 0.9, low: 0.7, ticks: 2 } });
    sup.register({ id: 'n' });
    let seq = 0;
    const beat = (load: number) => {
      sup.heartbeat({ nodeId: 'n', seq: ++seq, load });
      advance(1000);
    };
    beat(0.95);
    beat(0.95);
    expect(sup.node('n')?.state).toBe('overloaded');
    for (let i = 0; i < 5; i++) beat(0.8);
    expect(sup.node('n')?.state).toBe('overloaded');
    beat(0.7);
    expect(sup.node('n')?.state).toBe('overloaded');
    beat(0.6);
    expect(sup.node('n')).toMatchObject({
      state: 'online',
      reason: 'load at or under 0.7 for 2 ticks',
    });
  });

  it('takes an overloaded node offline when it falls silent', () => {
    const { sup, advance } = simulatedSupervisor({ overload: { high: 0.9, low: 0.7, ticks: 1 } });
    sup.register({ id: 'n' });
    sup.heartbeat({ nodeId: 'n', seq: 1, load: 1 });
    advance(1000);
    expect(sup.node('n')?.state).toBe('overloaded');
    advance(3000);
    expect(sup.node('n')?.state).toBe('offline');
  });

  it('leaves isolated nodes alone: silence does not take them offline', () => {
    const { sup, advance } = simulatedSupervisor();
    sup.register({ id: 'n' });
    sup.isolate('n', 'maintenance');
    advance(10_000);
    expect(sup.node('n')).toMatchObject({ state: 'isolated', reason: 'maintenance' });
  });

  it('applies the whole flow: analyse, detect, act, apply, across a fleet', () => {
    const { sup, advance } = simulatedSupervisor({ overload: { high: 0.9, low: 0.7, ticks: 2 } });
    const actions = collectApplied(sup);
    const transitions = collect<NodeTransition>(sup.transitions$);
    sup.registerMany([{ id: 'ok' }, { id: 'silent' }, { id: 'hot' }]);
    for (let seq = 1; seq <= 4; seq++) {
      sup.heartbeat({ nodeId: 'ok', seq, load: 0.3 });
      sup.heartbeat({ nodeId: 'hot', seq, load: 0.97 });
      advance(1000);
    }
    expect(sup.nodes().map((n) => [n.id, n.state])).toEqual([
      ['ok', 'online'],
      ['silent', 'offline'],
      ['hot', 'overloaded'],
    ]);
    expect(actions.map((a) => [a.type, a.nodeId])).toEqual([['reduce-load', 'hot']]);
    expect(transitions.map((t) => `${t.nodeId}:${t.from}->${t.to}@${t.tick}`)).toEqual([
      'hot:online->overloaded@2',
      'silent:online->offline@3',
    ]);
  });
});
