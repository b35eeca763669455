import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BatchRefusedError, HeartbeatResult, Supervisor } from 'wyneos';
import { createServer } from '../src/http/index.js';
import { httpFleet, silentLogger, simulatedSupervisor } from './helpers.js';

const codeOf = (result: HeartbeatResult | undefined) =>
  result?.ok === false ? result.error.code : result?.ok;

describe('heartbeats', () => {
  it('answers each heartbeat of a batch on its own: accepted with its reply, or refused with its coded error', () => {
    const { sup } = simulatedSupervisor();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    sup.isolate('b', 'held for a check');
    const results = sup.heartbeats([
      { nodeId: 'a', seq: 1, load: 0.25, metrics: { mem: 0.5 } },
      { nodeId: 'ghost', seq: 1, load: 0.1 },
      { nodeId: 'a', seq: 1, load: 0.3 },
      { nodeId: 'b', seq: 1, load: 2 },
      'not a heartbeat',
      { nodeId: 'b', seq: 1, load: 0.5 },
    ]);
    expect(results.map(codeOf)).toEqual([
      true,
      'WYNEOS_ERR_UNKNOWN_NODE',
      'WYNEOS_ERR_STALE_HEARTBEAT',
      'WYNEOS_ERR_INVALID_HEARTBEAT',
      'WYNEOS_ERR_INVALID_HEARTBEAT',
      true,
    ]);
    expect(results[0]).toEqual({
      ok: true,
      nodeId: 'a',
      state: 'online',
      since: 0,
      reason: 'registered',
      boot: 1,
      licence: undefined,
    });
    expect(results[5]).toMatchObject({ ok: true, state: 'isolated', reason: 'held for a check' });
    expect(results[3]).toMatchObject({ ok: false, nodeId: 'b', error: { path: '/load' } });
    expect(sup.node('a')).toMatchObject({ seq: 1, load: 0.25, metrics: { mem: 0.5 } });
    expect(sup.node('b')).toMatchObject({ seq: 1, load: 0.5 });
  });

  it('throws only for misuse: a batch that is not an array, or a stopped supervisor', async () => {
    const { sup } = simulatedSupervisor();
    expect(() => sup.heartbeats({ nodeId: 'a' } as never)).toThrow(
      expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_ARGUMENT' }),
    );
    expect(sup.heartbeats([])).toEqual([]);
    await sup.stop();
    expect(() => sup.heartbeats([])).toThrow(
      expect.objectContaining({ code: 'WYNEOS_ERR_STOPPED' }),
    );
  });

  it('takes an all-or-nothing batch whole, or none of it, answering the others BatchRefusedError', () => {
    const { sup } = simulatedSupervisor();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    const refused = sup.heartbeats(
      [
        { nodeId: 'a', seq: 1, load: 0.1 },
        { nodeId: 'b', seq: 1, load: 0.1 },
        { nodeId: 'a', seq: 2, load: 0.1 },
      ],
      { allOrNothing: true },
    );
    expect(refused.map(codeOf)).toEqual([
      'WYNEOS_ERR_BATCH_REFUSED',
      'WYNEOS_ERR_BATCH_REFUSED',
      'WYNEOS_ERR_INVALID_HEARTBEAT',
    ]);
    expect((refused[0] as unknown as { error: BatchRefusedError }).error.index).toBe(2);
    expect(sup.nodes().map((n) => n.seq)).toEqual([undefined, undefined]);
    const taken = sup.heartbeats(
      [
        { nodeId: 'a', seq: 1, load: 0.1 },
        { nodeId: 'b', seq: 1, load: 0.2 },
      ],
      { allOrNothing: true },
    );
    expect(taken.map(codeOf)).toEqual([true, true]);
    expect(sup.nodes().map((n) => n.load)).toEqual([0.1, 0.2]);
  });

  it('refuses a heartbeat naming another node than its sender, and counts it against the sender', () => {
    const { sup, advance } = simulatedSupervisor();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    const [result] = sup.heartbeats([{ nodeId: 'a', seq: 1, load: 0.1 }], { sender: 'b' });
    expect(codeOf(result)).toBe('WYNEOS_ERR_FORBIDDEN');
    // Malformed and naming a: the sender's credentials cannot make a pay for it.
    sup.heartbeats([{ nodeId: 'a', seq: 1, load: 9 }], { sender: 'b' });
    advance(1000);
    expect(sup.node('a')).toMatchObject({ seq: undefined, trust: 1 });
    expect(sup.explainTrust('b').entries.map((e) => e.kind)).toEqual(['impersonation']);
  });

  it('limits in-process heartbeats by the heartbeatRate option, stale ones spending a token too', () => {
    const { sup, clock } = simulatedSupervisor({ heartbeatRate: { perSecond: 1, burst: 2 } });
    sup.register({ id: 'a' });
    sup.heartbeat({ nodeId: 'a', seq: 5, load: 0.1 });
    expect(() => sup.heartbeat({ nodeId: 'a', seq: 5, load: 0.1 })).toThrow(/stale|not newer/i);
    expect(() => sup.heartbeat({ nodeId: 'a', seq: 6, load: 0.1 })).toThrow(
      expect.objectContaining({ code: 'WYNEOS_ERR_RATE_LIMITED', retryAfterMs: 1000 }),
    );
    clock.increment(1000);
    expect(sup.heartbeat({ nodeId: 'a', seq: 6, load: 0.1 })).toEqual({ boot: 1 });
    // A call's own rate takes the option's place, on the same bucket: 1 ms refills a token at
    // 1,000 a second, not at one.
    clock.increment(1);
    const [result] = sup.heartbeats([{ nodeId: 'a', seq: 7, load: 0.1 }], {
      rate: { perSecond: 1000, burst: 1000 },
    });
    expect(codeOf(result)).toBe(true);
    clock.increment(1);
    expect(() => sup.heartbeat({ nodeId: 'a', seq: 8, load: 0.1 })).toThrow(/faster/);
  });

  it('is unlimited in-process without the option, and refuses a bad rate with a coded error', () => {
    const { sup } = simulatedSupervisor();
    sup.register({ id: 'a' });
    for (let seq = 1; seq <= 1000; seq++) sup.heartbeat({ nodeId: 'a', seq, load: 0.1 });
    expect(sup.node('a')?.seq).toBe(1000);
    expect(() => simulatedSupervisor({ heartbeatRate: { perSecond: 0 } })).toThrow(
      expect.objectContaining({
        code: 'WYNEOS_ERR_INVALID_OPTIONS',
        path: 'heartbeatRate.perSecond',
      }),
    );
    expect(() => simulatedSupervisor({ heartbeatRate: { burst: 0.5 } })).toThrow(
      /heartbeatRate\.burst/,
    );
  });

  it('answers an HTTP heartbeat without building a node snapshot', async () => {
    const { sup } = simulatedSupervisor();
    sup.register({ id: 'a' });
    let views = 0;
    const counted = new Proxy(sup, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'node' && name !== 'nodes') return value;
        return (...args: unknown[]) => {
          views++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Supervisor;
    const app = await createServer({ supervisor: counted, logger: silentLogger });
    const answer = await app.inject({
      method: 'POST',
      url: '/v1/heartbeats',
      payload: [{ nodeId: 'a', seq: 1, load: 0.3 }],
    });
    expect(answer.json()).toEqual({
      results: [
        { nodeId: 'a', state: 'online', since: 0, reason: 'registered', boot: 1, actions: [] },
      ],
    });
    expect(views).toBe(0);
    await app.close();
    await sup.stop();
  });

  it('counts a malformed heartbeat over HTTP against its node, as in-process', async () => {
    const fleet = await httpFleet();
    fleet.sup.register({ id: 'a' });
    const answer = await fleet.app.inject({
      method: 'POST',
      url: '/v1/heartbeats',
      headers: fleet.node('a'),
      payload: { nodeId: 'a', seq: 1, load: 2 },
    });
    expect(answer.json().error).toMatchObject({
      code: 'WYNEOS_ERR_INVALID_HEARTBEAT',
      path: '/load',
    });
    fleet.advance(1000);
    expect(fleet.sup.node('a')?.trust).toBeCloseTo(0.98);
    await fleet.close();
  });

  it('gives random heartbeat sequences the same answers, state and trust in-process and over HTTP (property)', async () => {
    const rate = { perSecond: 2, burst: 3 };
    const id = fc.constantFrom('a', 'b', 'ghost');
    const step = fc.oneof(
      {
        arbitrary: fc.record({
          sender: id,
          beat: fc.record({
            nodeId: id,
            seq: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constant(-1), fc.constant(1.5)),
            load: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(2)),
          }),
        }),
        weight: 6,
      },
      { arbitrary: fc.constantFrom(250, 1000).map((ms) => ({ wait: ms })), weight: 1 },
    );
    const nodesOf = (sup: Supervisor) =>
      ['a', 'b'].map((n) => ({
        ...sup.node(n),
        incidents: sup.explainTrust(n).entries.map((e) => [e.kind, e.detail, e.delta]),
      }));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        const local = simulatedSupervisor({ heartbeatRate: rate });
        const http = await httpFleet({}, { heartbeatRate: rate });
        for (const { sup } of [local, http]) sup.registerMany([{ id: 'a' }, { id: 'b' }]);
        const localOutcomes: unknown[] = [];
        const httpOutcomes: unknown[] = [];
        for (const s of steps) {
          if ('wait' in s) {
            local.advance(s.wait);
            http.advance(s.wait);
            continue;
          }
          const [result] = local.sup.heartbeats([s.beat], { sender: s.sender });
          localOutcomes.push(codeOf(result));
          const answer = await http.app.inject({
            method: 'POST',
            url: '/v1/heartbeats',
            headers: http.node(s.sender),
            payload: s.beat,
          });
          httpOutcomes.push(answer.statusCode === 200 ? true : answer.json().error.code);
        }
        local.advance(1000);
        http.advance(1000);
        expect(httpOutcomes).toEqual(localOutcomes);
        expect(nodesOf(http.sup)).toEqual(nodesOf(local.sup));
        await local.sup.stop();
        await http.close();
      }),
      { numRuns: 40 },
    );
  });
});
