import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createSupervisor,
  DuplicateNodeError,
  InvalidNodeError,
  InvalidOptionsError,
  NotStartedError,
  SupervisorStoppedError,
  TickInProgressError,
  type TickSummary,
  UnknownNodeError,
  WyneosError,
} from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import type { InspectionEvent } from 'xstate';
import { linesPerTick } from '../src/supervisor/outputs.js';
import {
  captureLogger,
  collect,
  collectApplied,
  silentLogger,
  simulatedSupervisor,
} from './helpers.js';

describe('supervisor', () => {
  it('ticks on its clock every tickMs once started, and not before', () => {
    const clock = new SimulatedClock();
    const sup = createSupervisor({
      clock,
      logger: silentLogger,
      tickMs: 500,
      heartbeatTimeoutMs: 2000,
    });
    const ticks = collect<TickSummary>(sup.ticks$);
    clock.increment(2000);
    expect(ticks).toHaveLength(0);
    sup.start();
    for (let i = 0; i < 4; i++) clock.increment(500);
    expect(ticks.map((t) => [t.tick, t.at])).toEqual([
      [1, 2500],
      [2, 3000],
      [3, 3500],
      [4, 4000],
    ]);
  });

  it('runs one tick on demand and returns its summary', () => {
    const { sup } = simulatedSupervisor();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    const summary = sup.tick();
    expect(summary).toMatchObject({
      tick: 1,
      at: 0,
      nodeCount: 2,
      states: { online: 2, overloaded: 0, isolated: 0, offline: 0 },
      transitions: 0,
      actions: 0,
      fleetCompliance: 1,
      violations: 0,
    });
  });

  it('counts states after the tick, transitions included', () => {
    const { sup, advance } = simulatedSupervisor();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    const ticks = collect<TickSummary>(sup.ticks$);
    sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.1 });
    advance(2000);
    sup.heartbeat({ nodeId: 'a', seq: 2, load: 0.1 });
    advance(1000);
    expect(ticks.at(-1)).toMatchObject({
      tick: 3,
      states: { online: 1, offline: 1, overloaded: 0, isolated: 0 },
      transitions: 1,
    });
  });

  it('refuses tick() before start() and from inside a tick', () => {
    const clock = new SimulatedClock();
    const sup = createSupervisor({ clock, logger: silentLogger });
    expect(() => sup.tick()).toThrow(NotStartedError);
    sup.start();
    const errors: unknown[] = [];
    sup.reports$.subscribe((): void => {
      try {
        sup.tick();
      } catch (err) {
        errors.push(err);
      }
    });
    sup.tick();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TickInProgressError);
  });

  it('validates registrations and says where they are wrong', () => {
    const { sup } = simulatedSupervisor();
    const cases: Array<[unknown, string]> = [
      [{}, '/id'],
      [{ id: '' }, '/id'],
      [{ id: 'has space' }, '/id'],
      [{ id: 'a', labels: { region: 7 } }, '/labels/region'],
      [{ id: 'a', labels: { 'bad key!': 'x' } }, '/labels/bad key!'],
      [{ id: 'a', version: 'one' }, '/version'],
      [{ id: 'a', extra: true }, '/extra'],
      [null, ''],
    ];
    for (const [input, path] of cases) {
      const error = catchError(() => sup.register(input as never));
      expect(error, JSON.stringify(input)).toBeInstanceOf(InvalidNodeError);
      expect((error as InvalidNodeError).path).toBe(path);
      expect((error as InvalidNodeError).code).toBe('WYNEOS_ERR_INVALID_NODE');
    }
    expect(sup.nodes()).toEqual([]);
  });

  it('registers a batch all or nothing', () => {
    const { sup } = simulatedSupervisor();
    sup.register({ id: 'taken' });
    const bad = catchError(() => sup.registerMany([{ id: 'x' }, { id: 'y', version: 'nope' }]));
    expect(bad).toBeInstanceOf(InvalidNodeError);
    expect((bad as InvalidNodeError).path).toBe('/1/version');
    expect(() => sup.registerMany([{ id: 'x' }, { id: 'taken' }])).toThrow(DuplicateNodeError);
    expect(() => sup.registerMany([{ id: 'x' }, { id: 'x' }])).toThrow(DuplicateNodeError);
    expect(sup.nodes().map((n) => n.id)).toEqual(['taken']);
  });

  it('keeps its own copy of labels and metrics', () => {
    const { sup } = simulatedSupervisor();
    const labels = { region: 'eu' };
    const metrics = { mem: 0.5 };
    sup.register({ id: 'a', labels, version: '1.4.2' });
    sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.3, metrics });
    labels.region = 'us';
    metrics.mem = 0.99;
    expect(sup.node('a')).toMatchObject({
      labels: { region: 'eu' },
      metrics: { mem: 0.5 },
      version: '1.4.2',
    });
  });

  it('deregisters a node and stops its actor; unknown ids are typed errors', () => {
    const { sup, advance } = simulatedSupervisor();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    sup.deregister('a');
    expect(sup.node('a')).toBeUndefined();
    expect(sup.nodes().map((n) => n.id)).toEqual(['b']);
    expect(() => sup.deregister('a')).toThrow(UnknownNodeError);
    expect(() => sup.isolate('nope')).toThrow(UnknownNodeError);
    expect(() => sup.heartbeat({ nodeId: 'a', seq: 1, load: 0 })).toThrow(UnknownNodeError);
    advance(5000);
    expect(sup.report()?.nodeCount).toBe(1);
    // The id is free again.
    sup.register({ id: 'a' });
    expect(sup.node('a')?.state).toBe('online');
  });

  it('isolates and reinstates on request, emitting actions, and ignores repeats', () => {
    const { sup, advance } = simulatedSupervisor();
    const actions = collectApplied(sup);
    sup.register({ id: 'a' });
    advance(1000);
    expect(sup.isolate('a', 'maintenance')).toMatchObject({
      state: 'isolated',
      reason: 'maintenance',
    });
    expect(sup.isolate('a', 'again').reason).toBe('maintenance');
    expect(sup.reinstate('a')).toMatchObject({ state: 'online', reason: 'reinstated by operator' });
    expect(sup.reinstate('a').state).toBe('online');
    expect(actions).toEqual([
      { type: 'isolate', nodeId: 'a', reason: 'maintenance', tick: 1, at: 1000 },
      { type: 'reinstate', nodeId: 'a', reason: 'reinstated by operator', tick: 1, at: 1000 },
    ]);
    expect(() => sup.isolate('a', 42 as never)).toThrow(/reason/);
    sup.isolate('a');
    expect(() => sup.isolate('a', '' as never)).toThrow(/reason/);
  });

  it('stops: completes its streams, refuses further calls, and keeps the last views', async () => {
    const { sup, clock } = simulatedSupervisor();
    sup.register({ id: 'a' });
    let completed = 0;
    const streams: Array<Observable<unknown>> = [
      sup.ticks$,
      sup.transitions$,
      sup.reports$,
      sup.actions$,
    ];
    for (const stream of streams) {
      stream.subscribe({ complete: () => completed++ });
    }
    await sup.stop();
    await sup.stop();
    expect(completed).toBe(4);
    expect(() => sup.register({ id: 'b' })).toThrow(SupervisorStoppedError);
    expect(() => sup.heartbeat({ nodeId: 'a', seq: 1, load: 0 })).toThrow(SupervisorStoppedError);
    expect(() => sup.tick()).toThrow(SupervisorStoppedError);
    clock.increment(10_000);
    expect(sup.node('a')?.state).toBe('online');
  });

  it('rejects bad options with the option named', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tickMs: 0 }, 'tickMs'],
      [{ tickMs: 1.5 }, 'tickMs'],
      [{ heartbeatTimeoutMs: -1 }, 'heartbeatTimeoutMs'],
      [{ tickMs: 1000, heartbeatTimeoutMs: 1000 }, 'heartbeatTimeoutMs'],
      [{ overload: { high: 1.2 } }, 'overload.high'],
      [{ overload: { high: 0.5, low: 0.6 } }, 'overload.low'],
      [{ overload: { ticks: 0 } }, 'overload.ticks'],
      [{ overload: { hihg: 0.5 } }, 'overload.hihg'],
      [{ tickMS: 100 }, 'tickMS'],
      [{ logger: {} }, 'logger'],
      [{ clock: { now: () => 0 } }, 'clock'],
    ];
    for (const [options, path] of cases) {
      const error = catchError(() =>
        createSupervisor({ logger: silentLogger, ...options } as never),
      );
      expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).path).toBe(path);
    }
  });

  it('sends no actor event for a heartbeat that changes no lifecycle state', () => {
    const events: InspectionEvent[] = [];
    const { sup } = simulatedSupervisor({ inspect: (event) => events.push(event) });
    sup.register({ id: 'a' });
    const before = events.filter((e) => e.type === '@xstate.event').length;
    for (let seq = 1; seq <= 100; seq++) sup.heartbeat({ nodeId: 'a', seq, load: 0.5 });
    expect(events.filter((e) => e.type === '@xstate.event').length).toBe(before);
    expect(sup.node('a')).toMatchObject({ seq: 100, load: 0.5, lastHeartbeatAt: 0 });
  });

  it('runs node actors in the supervisor system, visible to an inspector', () => {
    const actors = new Set<string>();
    const { sup } = simulatedSupervisor({
      inspect: (event) => {
        if (event.type === '@xstate.actor')
          actors.add((event.actorRef as unknown as { id: string }).id);
      },
    });
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    for (const id of ['healing', 'governance', 'a', 'b']) expect(actors).toContain(id);
  });

  it('logs a structured line per transition and action, and a debug summary per tick', () => {
    const { logger, lines } = captureLogger('debug');
    const { sup, advance } = simulatedSupervisor({
      logger,
      overload: { high: 0.9, low: 0.5, ticks: 1 },
    });
    sup.register({ id: 'a' });
    sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.95 });
    advance(1000);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 30,
        component: 'supervisor',
        msg: 'node transition',
        nodeId: 'a',
        from: 'online',
        to: 'overloaded',
        tick: 1,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 30,
        msg: 'remediation action',
        action: 'reduce-load',
        nodeId: 'a',
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 20, msg: 'tick', tick: 1, nodeCount: 1 }),
    );
  });

  it('lists at most linesPerTick transitions and actions of a tick at info, and sums up the rest', () => {
    const { logger, lines } = captureLogger('debug');
    const { sup, advance } = simulatedSupervisor({
      logger,
      overload: { high: 0.9, low: 0.5, ticks: 1 },
    });
    const ids = Array.from({ length: 150 }, (_, i) => `n${i}`);
    sup.registerMany(ids.map((id) => ({ id })));
    for (const nodeId of ids) sup.heartbeat({ nodeId, seq: 1, load: 0.95 });
    advance(1000);
    const perNode = (level: number) =>
      lines.filter(
        (l) =>
          l.level === level &&
          (l.msg === 'node transition' || String(l.msg).startsWith('remediation action')),
      );
    // 150 transitions and 150 reduce-loads, each proposed and applied: 450 lines in all.
    expect(perNode(30)).toHaveLength(linesPerTick);
    expect(perNode(20)).toHaveLength(450 - linesPerTick);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 30,
        tick: 1,
        transitions: 150,
        actions: 150,
        unlisted: 450 - linesPerTick,
      }),
    );
  });

  it('registers 20,000 nodes one by one and ticks over them', () => {
    const { sup, advance } = simulatedSupervisor();
    for (let i = 0; i < 20_000; i++) sup.register({ id: `n${i}` });
    advance(1000);
    expect(sup.report()?.nodeCount).toBe(20_000);
    advance(2000);
    expect(sup.nodes().filter((n) => n.state === 'offline')).toHaveLength(20_000);
  });

  it('throws only WyneosError subclasses with a code for bad input', () => {
    const { sup } = simulatedSupervisor();
    for (const call of [
      () => sup.register(undefined as never),
      () => sup.heartbeat(undefined as never),
      () => sup.deregister(7 as never),
      () => sup.registerMany('x' as never),
    ]) {
      const error = catchError(call);
      expect(error).toBeInstanceOf(WyneosError);
      expect((error as WyneosError).code).toMatch(/^WYNEOS_ERR_/);
    }
  });

  it('hands out views a caller may keep: later ticks do not change them', () => {
    const { sup, advance } = simulatedSupervisor();
    sup.register({ id: 'a' });
    sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.2 });
    advance(1000);
    const [before] = sup.nodes();
    const one = sup.node('a');
    sup.heartbeat({ nodeId: 'a', seq: 2, load: 0.6, metrics: { mem: 0.5 } });
    advance(3000);
    expect(before).toMatchObject({ load: 0.2, seq: 1, state: 'online' });
    expect(one).toMatchObject({ load: 0.2, seq: 1 });
    expect(sup.node('a')).toMatchObject({ load: 0.6, seq: 2 });
    (sup.node('a')?.metrics as Record<string, number>).mem = 9;
    expect(sup.node('a')?.metrics).toEqual({ mem: 0.5 });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}
