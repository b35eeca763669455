import { fastify } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, maxLoad } from 'wyneos';
import { wyneosPlugin } from 'wyneos/http';
import { httpFleet, silentLogger } from './helpers.js';

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet | undefined;
async function start(...args: Parameters<typeof httpFleet>): Promise<Fleet> {
  fleet = await httpFleet(...args);
  return fleet;
}
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const beat = (nodeId: string, seq: number, load = 0.3) => ({ nodeId, seq, load });

describe('http', () => {
  it('registers a node with its own token, and refuses any other token with 401 or 403', async () => {
    const { app, node, operator, sup } = await start();
    const post = (headers: Record<string, string>, id: string) =>
      app.inject({ method: 'POST', url: '/v1/nodes', headers, payload: { id } });

    const created = await post(node('n1'), 'n1');
    expect(created.statusCode).toBe(201);
    expect(created.json().node).toMatchObject({ id: 'n1', state: 'online' });
    expect((await post(operator, 'n2')).statusCode).toBe(201);

    const asOther = await post(node('n1'), 'n3');
    expect(asOther.statusCode).toBe(403);
    expect(asOther.json()).toEqual({
      error: {
        code: 'WYNEOS_ERR_FORBIDDEN',
        message: "Forbidden: node 'n1' may act only as itself, not as 'n3'",
        path: '',
      },
    });
    const tokens = ['', 'Bearer', 'Bearer n3.abc', `Basic ${node('n3').authorization}`];
    for (const authorization of [...tokens, node('n3').authorization.replace(/.$/, 'x')]) {
      const answer = await post({ authorization }, 'n3');
      expect(answer.statusCode, authorization).toBe(401);
      expect(answer.json().error.code).toBe('WYNEOS_ERR_UNAUTHENTICATED');
    }
    expect((await post({}, 'n3')).statusCode).toBe(401);
    expect(sup.nodes().map((n) => n.id)).toEqual(['n1', 'n2']);
  });

  it('answers a heartbeat with the node state, and hands each pending action out once', async () => {
    const { app, node, sup, advance } = await start({ overload: { ticks: 2 } });
    sup.register({ id: 'hot' });
    const send = (seq: number, load: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/heartbeats',
        headers: node('hot'),
        payload: beat('hot', seq, load),
      });

    expect((await send(1, 0.95)).json()).toEqual({
      nodeId: 'hot',
      state: 'online',
      since: 0,
      reason: 'registered',
      boot: 1,
      actions: [],
    });
    advance(2000);
    const told = (await send(2, 0.95)).json();
    expect(told).toMatchObject({ state: 'overloaded', reason: 'load at or over 0.9 for 2 ticks' });
    expect(told.actions).toEqual([
      expect.objectContaining({ type: 'reduce-load', reason: 'load at or over 0.9 for 2 ticks' }),
    ]);
    expect((await send(3, 0.95)).json()).toMatchObject({ state: 'overloaded', actions: [] });
  });

  it('takes a batch whole or not at all, and answers it node by node', async () => {
    const { app, operator, node, sup } = await start();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    const send = (headers: Record<string, string>, payload: unknown) =>
      app.inject({ method: 'POST', url: '/v1/heartbeats', headers, payload: payload as object });

    const unknown = await send(operator, [beat('a', 1), beat('ghost', 1)]);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('WYNEOS_ERR_UNKNOWN_NODE');
    const foreign = await send(node('a'), [beat('a', 1), beat('b', 1)]);
    expect(foreign.statusCode).toBe(403);
    const repeated = await send(operator, [beat('a', 1), beat('a', 2)]);
    expect(repeated.json().error).toMatchObject({
      code: 'WYNEOS_ERR_INVALID_HEARTBEAT',
      path: '/1/nodeId',
    });
    const invalid = await send(operator, [beat('a', 1), { ...beat('b', 1), load: 2 }]);
    expect(invalid.json().error).toMatchObject({
      code: 'WYNEOS_ERR_INVALID_HEARTBEAT',
      path: '/1/load',
    });
    expect(sup.nodes().map((n) => n.seq)).toEqual([undefined, undefined]);

    const taken = await send(operator, [beat('a', 1, 0.1), beat('b', 1, 0.2)]);
    expect(taken.statusCode).toBe(200);
    expect(taken.json().results.map((r: { nodeId: string }) => r.nodeId)).toEqual(['a', 'b']);
    expect(sup.nodes().map((n) => n.load)).toEqual([0.1, 0.2]);
    const stale = await send(operator, [beat('a', 2), beat('b', 1)]);
    expect(stale.statusCode).toBe(409);
    expect(sup.node('a')?.seq).toBe(1);
  });

  it('refuses a batch of more than 1,000 heartbeats with 400 and a body over the limit with 413', async () => {
    const { app, operator } = await start({}, { bodyLimit: 64 * 1024 });
    const many = Array.from({ length: 1001 }, (_, i) => beat(`n${i}`, 1));
    const tooMany = await app.inject({
      method: 'POST',
      url: '/v1/heartbeats',
      headers: operator,
      payload: many,
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.message).toMatch(/must NOT have more than 1000 items/);
    const large = await app.inject({
      method: 'POST',
      url: '/v1/heartbeats',
      headers: operator,
      payload: { nodeId: 'x'.repeat(70_000), seq: 1, load: 0 },
    });
    expect(large.statusCode).toBe(413);
    expect(large.json().error.code).toBe('WYNEOS_ERR_BODY_TOO_LARGE');
  });

  it('answers 429 with Retry-After to a node beating faster than its rate, and takes it again later', async () => {
    const { app, node, sup, clock } = await start(
      {},
      { heartbeatRate: { perSecond: 2, burst: 2 } },
    );
    sup.register({ id: 'fast' });
    const send = (seq: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/heartbeats',
        headers: node('fast'),
        payload: beat('fast', seq),
      });
    expect((await send(1)).statusCode).toBe(200);
    expect((await send(2)).statusCode).toBe(200);
    const limited = await send(3);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json().error.code).toBe('WYNEOS_ERR_RATE_LIMITED');
    expect(sup.node('fast')?.seq).toBe(2);
    clock.increment(500);
    expect((await send(3)).statusCode).toBe(200);
  });

  it('checks bodies, paths and queries by schema, names what is wrong and changes nothing', async () => {
    const { app, operator, node, sup } = await start();
    sup.register({ id: 'n1' });
    const cases: Array<[string, string, unknown, string, string]> = [
      [
        'POST',
        '/v1/heartbeats',
        { nodeId: 'n1', seq: '1', load: 0.5 },
        'INVALID_HEARTBEAT',
        '/seq',
      ],
      [
        'POST',
        '/v1/heartbeats',
        { nodeId: 'n1', seq: 1, load: 0.5, x: 1 },
        'INVALID_HEARTBEAT',
        '/x',
      ],
      ['POST', '/v1/heartbeats', [], 'INVALID_HEARTBEAT', ''],
      ['POST', '/v1/nodes', { id: 'n 2' }, 'INVALID_NODE', '/id'],
      ['POST', '/v1/nodes', { id: 'n2', version: 'new' }, 'INVALID_NODE', '/version'],
      ['POST', '/v1/nodes/n1/isolate', { reason: 7 }, 'INVALID_REQUEST', '/reason'],
      ['POST', '/v1/nodes/n%20x/pin', undefined, 'INVALID_REQUEST', ':id'],
      ['GET', '/v1/actions?since=soon', undefined, 'INVALID_REQUEST', '?since'],
      ['GET', '/v1/nodes?colour=red', undefined, 'INVALID_REQUEST', '?colour'],
    ];
    for (const [method, url, payload, code, path] of cases) {
      const answer = await app.inject({
        method: method as 'GET',
        url,
        headers: operator,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      expect(answer.statusCode, url).toBe(400);
      expect(answer.json().error, url).toMatchObject({ code: `WYNEOS_ERR_${code}`, path });
    }
    const notJson = await app.inject({
      method: 'POST',
      url: '/v1/heartbeats',
      headers: { ...node('n1'), 'content-type': 'application/json' },
      payload: '{"nodeId":',
    });
    expect(notJson.json().error.code).toBe('WYNEOS_ERR_INVALID_REQUEST');
    const text = await app.inject({
      method: 'POST',
      url: '/v1/heartbeats',
      headers: { ...node('n1'), 'content-type': 'text/plain' },
      payload: 'load=1',
    });
    expect(text.statusCode).toBe(415);
    const nowhere = await app.inject({ method: 'PUT', url: '/v1/heartbeat' });
    expect(nowhere.json().error.code).toBe('WYNEOS_ERR_NO_ROUTE');
    expect(sup.nodes()).toMatchObject([{ id: 'n1', state: 'online', seq: undefined }]);
  });

  it('lets the operator isolate, reinstate, protect and pin, and no node token do so', async () => {
    const { app, operator, node, sup } = await start();
    sup.register({ id: 'n1' });
    const post = (url: string, headers: Record<string, string>, payload?: object) =>
      app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });

    expect((await post('/v1/nodes/n1/isolate', node('n1'))).statusCode).toBe(403);
    const isolated = await post('/v1/nodes/n1/isolate', operator, { reason: 'maintenance' });
    expect(isolated.json().node).toMatchObject({ state: 'isolated', reason: 'maintenance' });
    const reinstated = await post('/v1/nodes/n1/reinstate', operator);
    expect(reinstated.json().node).toMatchObject({ state: 'online' });
    expect((await post('/v1/nodes/n1/protect', operator)).json()).toEqual({
      nodeId: 'n1',
      protected: true,
    });
    expect((await post('/v1/nodes/n1/pin', operator, { on: true })).json().pinned).toBe(true);
    expect(sup.overrides()).toEqual({ protected: ['n1'], pinned: ['n1'] });
    const unknown = await post('/v1/nodes/ghost/isolate', operator);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('WYNEOS_ERR_UNKNOWN_NODE');
  });

  it('shows a node with its rule results, recent transitions and pending actions', async () => {
    const { app, operator, node, sup, advance } = await start({
      rules: [maxLoad(0.5)],
      overload: { ticks: 1 },
    });
    sup.register({ id: 'n1' });
    sup.heartbeat(beat('n1', 1, 0.95));
    advance(1000);
    const view = await app.inject({ url: '/v1/nodes/n1', headers: node('n1') });
    expect(view.json()).toMatchObject({
      node: { id: 'n1', state: 'overloaded', load: 0.95 },
      rules: [{ ruleId: 'max-load', outcome: 'fail' }],
      transitions: [{ from: 'online', to: 'overloaded' }],
      pendingActions: [{ type: 'reduce-load' }],
    });
    expect((await app.inject({ url: '/v1/nodes/n1', headers: node('n2') })).statusCode).toBe(403);
    const report = await app.inject({ url: '/v1/report', headers: operator });
    expect(report.json().report).toMatchObject({ tick: 1, fleetCompliance: 0 });
  });

  it('lists nodes a page at a time, filtered by state', async () => {
    const { app, operator, sup } = await start();
    sup.registerMany(['a', 'b', 'c', 'd'].map((id) => ({ id })));
    sup.isolate('c');
    const list = async (query: string) =>
      (await app.inject({ url: `/v1/nodes${query}`, headers: operator })).json();
    const first = await list('?limit=2');
    expect(first.nodes.map((n: { id: string }) => n.id)).toEqual(['a', 'b']);
    expect(first.next).toBe('b');
    const rest = await list(`?limit=2&after=${first.next}`);
    expect(rest).toEqual({
      nodes: [expect.objectContaining({ id: 'c' }), expect.objectContaining({ id: 'd' })],
    });
    expect((await list('?state=isolated')).nodes.map((n: { id: string }) => n.id)).toEqual(['c']);
  });

  it('serves the action log after a cursor', async () => {
    const { app, operator, sup } = await start();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    sup.isolate('a');
    const all = (await app.inject({ url: '/v1/actions', headers: operator })).json();
    expect(all.actions.map((a: { status: string }) => a.status)).toEqual(['proposed', 'applied']);
    sup.isolate('b');
    const after = (
      await app.inject({ url: `/v1/actions?since=${all.next}`, headers: operator })
    ).json();
    expect(after.actions).toMatchObject([
      { nodeId: 'b', status: 'proposed', cursor: 3 },
      { nodeId: 'b', status: 'applied', cursor: 4 },
    ]);
    expect(after.next).toBe(4);
  });

  it('is ready after the first tick and not once the supervisor stops', async () => {
    const { app, sup, advance } = await start();
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    advance(1000);
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', tick: 1 });
    await sup.stop();
    expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({ reason: 'stopping' });
  });

  it('exposes Prometheus metrics: heartbeats by outcome, nodes by state, rules, actions, ticks', async () => {
    const { app, node, sup, advance } = await start({ rules: [maxLoad(0.5)] });
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    const send = (payload: object) =>
      app.inject({ method: 'POST', url: '/v1/heartbeats', headers: node('a'), payload });
    await send(beat('a', 1, 0.7));
    await send(beat('a', 1, 0.7));
    await send(beat('b', 1, 0.7));
    await send({ nodeId: 'a' });
    sup.isolate('b');
    advance(1000);
    const text = (await app.inject({ url: '/metrics' })).body;
    for (const line of [
      'wyneos_heartbeats_accepted_total 1',
      'wyneos_heartbeats_rejected_total{reason="stale"} 1',
      'wyneos_heartbeats_rejected_total{reason="forbidden"} 1',
      'wyneos_heartbeats_rejected_total{reason="invalid"} 1',
      'wyneos_nodes{state="online"} 1',
      'wyneos_nodes{state="isolated"} 1',
      'wyneos_rule_results{rule="max-load",outcome="fail"} 1',
      'wyneos_actions_total{type="isolate",status="applied"} 1',
      'wyneos_tick_duration_seconds_count 1',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('streams transitions, actions and reports as Server-Sent Events', async () => {
    const { app, operator, sup, advance } = await start();
    sup.register({ id: 'n1' });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const refused = await fetch(`${url}/v1/events`);
    expect(refused.status).toBe(401);
    const response = await fetch(`${url}/v1/events`, { headers: operator });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${received}`);
        received += decoder.decode(value);
      }
    };
    await until(/: wyneos events/);
    sup.isolate('n1', 'maintenance');
    advance(1000);
    await until(/event: report/);
    expect(received).toMatch(
      /event: transition\ndata: \{"nodeId":"n1","from":"online","to":"isolated"/,
    );
    expect(received).toMatch(/event: action\ndata: \{"type":"isolate"/);
    await reader.cancel();
  });

  it('streams the recent counts per state first, then ticks and admissions', async () => {
    const { app, operator, sup, advance } = await start();
    sup.register({ id: 'n1' });
    advance(1000);
    advance(1000);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${url}/v1/events`, { headers: operator });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${received}`);
        received += decoder.decode(value);
      }
    };
    await until(/event: history\ndata: .*\n\n/);
    const history = JSON.parse(/event: history\ndata: (.*)\n/.exec(received)?.[1] ?? '');
    expect(history.map((p: { tick: number }) => p.tick)).toEqual([1, 2]);
    expect(history[1].states).toEqual({ online: 1, overloaded: 0, isolated: 0, offline: 0 });
    sup.register({ id: 'n2', labels: { zone: 'b' } });
    advance(1000);
    await until(/event: tick\n/);
    expect(received).toMatch(/event: admission\ndata: \{"nodeId":"n2","admitted":true/);
    expect(received).toMatch(/event: tick\ndata: \{"tick":3,"at":\d+,"nodeCount":2,"states":\{/);
    await reader.cancel();
  });

  it('mounts under a prefix and runs without a secret, every request allowed', async () => {
    const sup = createSupervisor({ logger: silentLogger });
    const app = fastify();
    await app.register(wyneosPlugin, { supervisor: sup, prefix: '/wyneos' });
    const created = await app.inject({
      method: 'POST',
      url: '/wyneos/v1/nodes',
      payload: { id: 'n1' },
    });
    expect(created.statusCode).toBe(201);
    expect((await app.inject({ url: '/wyneos/v1/nodes' })).json().nodes).toHaveLength(1);
    expect((await app.inject({ url: '/v1/nodes' })).statusCode).toBe(404);
    await app.close();
    await sup.stop();
  });

  it('deregisters a node with its own token and forgets what it kept of it', async () => {
    const { app, node, sup } = await start();
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    expect(
      (await app.inject({ method: 'DELETE', url: '/v1/nodes/b', headers: node('a') })).statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ method: 'DELETE', url: '/v1/nodes/a', headers: node('a') })).statusCode,
    ).toBe(204);
    expect(sup.nodes().map((n) => n.id)).toEqual(['b']);
    expect(
      (await app.inject({ method: 'DELETE', url: '/v1/nodes/a', headers: node('a') })).statusCode,
    ).toBe(404);
  });
});
