import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'wyneos/testing';
import {
  type AgentOptions,
  backoffDelay,
  createAgent,
  fileLoad,
  hostLoad,
} from '../src/agent/index.js';
import { captureLogger } from './helpers.js';

interface Call {
  readonly at: number;
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly authorization: string | undefined;
}

/**
 * A scripted server in place of `fetch`: each call is recorded with its clock time and
 * answered by `answer` (or fails like an unreachable server while `away`). Its answers resolve
 * in microtasks, so one turn of the event loop finishes a beat.
 */
function fakeServer(clock: SimulatedClock) {
  const calls: Call[] = [];
  const server = {
    calls,
    away: false,
    answer: (path: string, _body: Record<string, unknown>): [number, unknown, string?] =>
      path === '/v1/nodes'
        ? [201, { node: {} }]
        : [200, { nodeId: 'n1', state: 'online', since: 0, reason: 'registered', actions: [] }],
    fetch: (async (url: string, init: RequestInit) => {
      const path = new URL(url).pathname;
      const body = JSON.parse(String(init.body));
      const headers = init.headers as Record<string, string>;
      calls.push({ at: clock.now(), path, body, authorization: headers.authorization });
      if (server.away) throw new TypeError('fetch failed');
      const [status, answer, retryAfter] = server.answer(path, body);
      return {
        status,
        headers: new Headers(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
        text: async () => JSON.stringify(answer),
      };
    }) as unknown as typeof fetch,
  };
  return server;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function setup(options: { random?: () => number; onAction?: AgentOptions['onAction'] } = {}) {
  const clock = new SimulatedClock();
  const server = fakeServer(clock);
  const { logger, lines } = captureLogger('info');
  let load = 0.25;
  const agent = createAgent({
    server: 'http://supervisor.test:7070/',
    nodeId: 'n1',
    token: 'n1.token',
    labels: { zone: 'a' },
    intervalMs: 100,
    maxBackoffMs: 1000,
    load: () => ({ load, metrics: { mem: 0.5 } }),
    fetch: server.fetch,
    clock,
    logger,
    random: options.random ?? (() => 0),
    ...(options.onAction === undefined ? {} : { onAction: options.onAction }),
  });
  return {
    clock,
    server,
    agent,
    lines,
    setLoad: (value: number) => {
      load = value;
    },
    /** Moves time on by `ms` in steps of `step`, letting each beat finish. */
    async advance(ms: number, step = 10) {
      await turn();
      for (let t = 0; t < ms; t += step) {
        clock.increment(step);
        await turn();
      }
    },
  };
}

describe('agent', () => {
  it('registers, then heartbeats every interval with its token, a growing seq and its load', async () => {
    const { agent, server, advance, setLoad } = setup();
    agent.start();
    await advance(100);
    setLoad(0.75);
    await advance(200);
    await agent.stop();
    expect(server.calls.map((c) => [c.at, c.path])).toEqual([
      [0, '/v1/nodes'],
      [0, '/v1/heartbeats'],
      [100, '/v1/heartbeats'],
      [200, '/v1/heartbeats'],
      [300, '/v1/heartbeats'],
    ]);
    expect(server.calls[0]?.body).toEqual({ id: 'n1', labels: { zone: 'a' } });
    expect(server.calls.every((c) => c.authorization === 'Bearer n1.token')).toBe(true);
    const beats = server.calls.slice(1).map((c) => c.body);
    expect(beats.map((b) => b.seq)).toEqual([1, 100, 200, 300]);
    expect(beats.map((b) => b.load)).toEqual([0.25, 0.25, 0.75, 0.75]);
    expect(beats[0]).toEqual({
      nodeId: 'n1',
      epoch: 0,
      seq: 1,
      load: 0.25,
      metrics: { mem: 0.5 },
    });
  });

  it('sends the boot of the last answer, and after a restart of the server re-sends at once with the new one', async () => {
    const { agent, server, advance, lines } = setup();
    let boot = 1;
    server.answer = (path, body) => {
      if (path === '/v1/nodes') return [201, { node: {} }];
      if (body.boot !== boot) {
        return [
          409,
          { error: { code: 'WYNEOS_ERR_HEARTBEAT_RESYNC', message: 'restarted', path: '', boot } },
        ];
      }
      return [200, { nodeId: 'n1', state: 'online', since: 0, reason: 'ok', boot, actions: [] }];
    };
    agent.start();
    await advance(100);
    boot = 2;
    await advance(100);
    await agent.stop();
    const beats = server.calls.filter((c) => c.path === '/v1/heartbeats');
    expect(beats.map((c) => [c.at, c.body.boot, c.body.seq])).toEqual([
      [0, undefined, 1],
      [0, 1, 2],
      [100, 1, 100],
      [200, 1, 200],
      [200, 2, 201],
    ]);
    expect(new Set(beats.map((c) => c.body.epoch))).toEqual(new Set([0]));
    expect(lines.filter((l) => l.msg === 'heartbeat refused')).toEqual([]);
  });

  it('logs its state when it changes and each action handed to it, and runs its command', async () => {
    const ran: unknown[] = [];
    const { agent, server, advance, lines } = setup({
      onAction: { 'reduce-load': (action: unknown) => ran.push(action) },
    });
    const reduce = { id: 'action-1', type: 'reduce-load', reason: 'hot', at: 90, tick: 3 };
    server.answer = (path) =>
      path === '/v1/nodes'
        ? [201, {}]
        : [200, { nodeId: 'n1', state: 'overloaded', since: 90, reason: 'hot', actions: [reduce] }];
    agent.start();
    await advance(10);
    await agent.stop();
    expect(agent.state).toBe('overloaded');
    expect(lines.filter((l) => l.msg === 'state')).toMatchObject([
      { state: 'overloaded', reason: 'hot' },
    ]);
    expect(lines.find((l) => l.msg === 'action')).toMatchObject({
      action: 'reduce-load',
      actionId: 'action-1',
      reason: 'hot',
    });
    expect(ran).toEqual([{ ...reduce, nodeId: 'n1' }]);
    expect(lines.find((l) => l.msg === 'command ran')).toMatchObject({ action: 'reduce-load' });
  });

  it('backs off exponentially while the server is away, then beats at its interval again', async () => {
    const { agent, server, advance, lines } = setup({ random: () => 0 });
    server.away = true;
    agent.start();
    await advance(1600);
    server.away = false;
    await advance(800);
    await agent.stop();
    const times = server.calls.map((c) => c.at);
    // Equal jitter with random() = 0: half of 100, 200, 400, 800, then of the 1,000 ms cap.
    expect(times.slice(0, 7)).toEqual([0, 50, 150, 350, 750, 1250, 1750]);
    expect(server.calls.slice(6).map((c) => [c.at, c.path])).toEqual([
      [1750, '/v1/nodes'],
      [1750, '/v1/heartbeats'],
      [1850, '/v1/heartbeats'],
      [1950, '/v1/heartbeats'],
      [2050, '/v1/heartbeats'],
      [2150, '/v1/heartbeats'],
      [2250, '/v1/heartbeats'],
      [2350, '/v1/heartbeats'],
    ]);
    expect(lines.filter((l) => l.msg === 'server unreachable').map((l) => l.retryInMs)).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
  });

  it('registers again when the server has forgotten the node, and waits as Retry-After says', async () => {
    const { agent, server, advance } = setup();
    let forgotten = true;
    let limited = true;
    server.answer = (path) => {
      if (path === '/v1/nodes') return [201, {}];
      if (forgotten) {
        forgotten = false;
        return [404, { error: { code: 'WYNEOS_ERR_UNKNOWN_NODE', message: '', path: '' } }];
      }
      if (limited) {
        limited = false;
        return [429, { error: { code: 'WYNEOS_ERR_RATE_LIMITED', message: '', path: '' } }, '2'];
      }
      return [200, { nodeId: 'n1', state: 'online', since: 0, reason: '', actions: [] }];
    };
    agent.start();
    await advance(2100);
    await agent.stop();
    expect(server.calls.slice(0, 6).map((c) => [c.at, c.path])).toEqual([
      [0, '/v1/nodes'],
      [0, '/v1/heartbeats'],
      [0, '/v1/nodes'],
      [0, '/v1/heartbeats'],
      [2000, '/v1/heartbeats'],
      [2100, '/v1/heartbeats'],
    ]);
  });

  it('waits between half and all of an exponential ceiling, never over the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, max, random) => {
          const ceiling = Math.min(max, base * 2 ** (attempt - 1));
          const delay = backoffDelay(attempt, base, max, () => random);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.ceil(ceiling));
        },
      ),
    );
  });

  it("reads the host's load per CPU and memory in use, or a load file, clamped to [0, 1]", async () => {
    const host = await hostLoad();
    expect(host.load).toBeGreaterThanOrEqual(0);
    expect(host.load).toBeLessThanOrEqual(1);
    expect(host.metrics.mem).toBeGreaterThan(0);
    expect(host.metrics.mem).toBeLessThanOrEqual(1);
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-agent-'));
    const file = join(dir, 'load');
    for (const [text, load] of [
      ['0.42\n', 0.42],
      ['7', 1],
      ['-3', 0],
    ] as const) {
      await writeFile(file, text);
      expect((await fileLoad(file)()).load).toBe(load);
    }
    await writeFile(file, 'busy');
    await expect(fileLoad(file)()).rejects.toThrow(/holds no number/);
  });
});
