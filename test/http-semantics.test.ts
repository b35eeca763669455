import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { operatorToken } from 'wyneos/http';
import { createServer } from '../src/http/server.js';
import { httpFleet, simulatedSupervisor, testSecret } from './helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function fleet(...args: Parameters<typeof httpFleet>) {
  const started = await httpFleet(...args);
  closers.push(() => started.close());
  return started;
}

describe('HTTP semantics', () => {
  it('names the Bearer scheme on every 401, and invalid_token when a token was sent', async () => {
    const { app, node } = await fleet();
    const routes = [
      ['GET', '/v1/nodes'],
      ['POST', '/v1/heartbeats'],
      ['GET', '/v1/nodes/n1'],
      ['POST', '/v1/nodes/n1/isolate'],
      ['GET', '/v1/events'],
    ] as const;
    for (const [method, url] of routes) {
      const bare = await app.inject({ method, url });
      expect(bare.statusCode).toBe(401);
      expect(bare.headers['www-authenticate'], url).toBe('Bearer realm="wyneos"');
      const wrong = await app.inject({
        method,
        url,
        headers: { authorization: node('n1').authorization.replace(/.$/, '_') },
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.headers['www-authenticate'], url).toBe(
        'Bearer realm="wyneos", error="invalid_token"',
      );
      const basic = await app.inject({ method, url, headers: { authorization: 'Basic bjE6eA==' } });
      expect(basic.headers['www-authenticate'], url).toBe('Bearer realm="wyneos"');
    }
    // Not on other errors.
    const forbidden = await app.inject({ url: '/v1/nodes', headers: node('n1') });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['www-authenticate']).toBeUndefined();
  });

  it('answers a wrong method on a known path 405 with Allow, and an unknown path 404', async () => {
    const { app, operator } = await fleet();
    const cases = [
      ['PUT', '/v1/nodes', 'GET, HEAD, POST'],
      ['PATCH', '/v1/nodes/n1', 'DELETE, GET, HEAD'],
      ['GET', '/v1/heartbeats', 'POST'],
      ['DELETE', '/v1/nodes/n1/isolate?x=1', 'POST'],
      ['POST', '/healthz', 'GET, HEAD'],
    ] as const;
    for (const [method, url, allow] of cases) {
      const answer = await app.inject({ method, url, headers: operator });
      expect(answer.statusCode, `${method} ${url}`).toBe(405);
      expect(answer.headers.allow).toBe(allow);
      expect(answer.json().error).toMatchObject({
        code: 'WYNEOS_ERR_METHOD_NOT_ALLOWED',
        path: '',
      });
    }
    for (const url of ['/v1/node', '/v1/nodes/a/b/c', '/nowhere']) {
      const answer = await app.inject({ method: 'PUT', url, headers: operator });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.headers.allow).toBeUndefined();
      expect(answer.json().error.code).toBe('WYNEOS_ERR_NO_ROUTE');
    }
  });

  it('logs one line a request through the logger: all, errors only, or off', async () => {
    const serve = async (accessLog?: 'off' | 'errors' | 'all') => {
      const lines: Record<string, unknown>[] = [];
      const sink = new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      });
      const logger = pino({ level: 'debug' }, sink);
      const { sup } = simulatedSupervisor({ logger: pino({ level: 'silent' }) });
      const app = await createServer({
        supervisor: sup,
        logger,
        secret: testSecret,
        ...(accessLog === undefined ? {} : { accessLog }),
      });
      closers.push(async () => {
        await app.close();
        await sup.stop();
      });
      sup.register({ id: 'n1' });
      const operator = { authorization: `Bearer ${operatorToken(testSecret)}` };
      await app.inject({ url: '/healthz' });
      await app.inject({ url: '/?token=s3cret&x=1' });
      await app.inject({ url: '/v1/nodes' });
      await app.inject({
        method: 'POST',
        url: '/v1/heartbeats',
        headers: operator,
        payload: { nodeId: 'n1', seq: 1, load: 0.1 },
      });
      return lines
        .filter((line) => line.msg === 'request')
        .map(({ level, method, url, status }) => ({ level, method, url, status }));
    };
    const info = 30;
    const all = [
      { level: info, method: 'GET', url: '/healthz', status: 200 },
      { level: info, method: 'GET', url: '/?token=[redacted]&x=1', status: 200 },
      { level: 40, method: 'GET', url: '/v1/nodes', status: 401 },
      { level: 20, method: 'POST', url: '/v1/heartbeats', status: 200 },
    ];
    expect(await serve()).toEqual(all);
    expect(await serve('all')).toEqual(all);
    expect(await serve('errors')).toEqual([all[2]]);
    expect(await serve('off')).toEqual([]);
    const { sup } = simulatedSupervisor();
    closers.push(() => sup.stop());
    await expect(
      createServer({
        supervisor: sup,
        logger: pino({ level: 'silent' }),
        accessLog: 'some' as never,
      }),
    ).rejects.toMatchObject({ code: 'WYNEOS_ERR_INVALID_ARGUMENT' });
  });

  it('tells a node its rate bucket on every heartbeat reply (RateLimit-*)', async () => {
    const { app, node, operator, sup, advance } = await fleet(
      {},
      { heartbeatRate: { perSecond: 2, burst: 3 } },
    );
    sup.registerMany([{ id: 'n1' }, { id: 'n2' }]);
    const send = (headers: Record<string, string>, payload: unknown) =>
      app.inject({ method: 'POST', url: '/v1/heartbeats', headers, payload: payload as object });
    const limits = (answer: Awaited<ReturnType<typeof send>>) => [
      answer.headers['ratelimit-limit'],
      answer.headers['ratelimit-remaining'],
      answer.headers['ratelimit-reset'],
    ];
    const beat = (nodeId: string, seq: number) => ({ nodeId, seq, load: 0.1 });
    expect(limits(await send(node('n1'), beat('n1', 1)))).toEqual(['3', '2', '1']);
    expect(limits(await send(node('n1'), beat('n1', 2)))).toEqual(['3', '1', '1']);
    expect(limits(await send(node('n1'), beat('n1', 3)))).toEqual(['3', '0', '2']);
    const refused = await send(node('n1'), beat('n1', 4));
    expect(refused.statusCode).toBe(429);
    advance(500);
    expect(limits(await send(node('n1'), beat('n1', 4)))).toEqual(['3', '0', '2']);
    // A batch: its node nearest the limit.
    const batch = await send(operator, [beat('n2', 1), beat('n1', 5)]);
    expect(batch.statusCode).toBe(429);
    advance(1000);
    const taken = await send(operator, [beat('n2', 1), beat('n1', 5)]);
    expect(taken.statusCode).toBe(200);
    expect(limits(taken)).toEqual(['3', '1', '1']);
  });
});
