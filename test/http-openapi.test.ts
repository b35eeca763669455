import SwaggerParser from '@apidevtools/swagger-parser';
import swagger from '@fastify/swagger';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { InjectOptions } from 'fastify';
import { fastify } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { wyneosPlugin } from 'wyneos/http';
import { generateLicenceKeys, issueLicence } from 'wyneos/licensing';
import { httpFleet, simulatedSupervisor, testSecret } from './helpers.js';

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet | undefined;
let closeApp: (() => Promise<void>) | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  await closeApp?.();
  closeApp = undefined;
});

interface Operation {
  responses: Record<
    string,
    {
      content?: Record<string, { schema: object }>;
      headers?: Record<string, unknown>;
    }
  >;
  security?: unknown[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, object> };
}

async function documentOf(app: Fleet['app']): Promise<Document> {
  const answer = await app.inject({ url: '/openapi.json' });
  expect(answer.statusCode).toBe(200);
  return answer.json() as Document;
}

/** Holds each answer to the document: its status documented, its body and headers as said. */
function conformance(doc: Document) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'openapi', components: doc.components });
  const templates = Object.keys(doc.paths).map((path) => ({
    path,
    pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  const called = new Set<string>();
  return {
    called,
    check(
      request: { method: string; url: string },
      answer: Awaited<ReturnType<Fleet['app']['inject']>>,
    ) {
      const [path = ''] = request.url.split('?', 1);
      const template = templates.find((t) => t.pattern.test(path));
      const where = `${request.method} ${request.url} -> ${answer.statusCode}`;
      expect(template, where).toBeDefined();
      const method = request.method.toLowerCase();
      const operation = doc.paths[template?.path ?? '']?.[method];
      expect(operation, where).toBeDefined();
      called.add(`${method} ${template?.path}`);
      const documented = operation?.responses[String(answer.statusCode)];
      expect(documented, `${where} is not documented`).toBeDefined();
      for (const header of Object.keys(documented?.headers ?? {})) {
        expect(answer.headers[header.toLowerCase()], `${where}: header ${header}`).toBeDefined();
      }
      if (documented?.content === undefined) {
        expect(answer.body, where).toBe('');
        return;
      }
      const type = String(answer.headers['content-type']).split(';')[0] ?? '';
      const media = documented.content[type];
      expect(media, `${where}: ${type} is not documented`).toBeDefined();
      if (type !== 'application/json') return;
      const schema = JSON.parse(
        JSON.stringify(media?.schema).replaceAll('"#/components/', '"openapi#/components/'),
      );
      const validate = ajv.compile(schema);
      const body = answer.json();
      expect(validate(body), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    },
  };
}

/**
 * Requests through `inject`, each answer held to the document, and each body compared with
 * what the route handed to the serialiser: a response schema must not drop any of it.
 */
async function harness(started: Fleet) {
  const { app, operator } = started;
  let handed: unknown;
  app.addHook('preSerialization', async (_request, _reply, payload) => {
    handed = payload;
    return payload;
  });
  const doc = await documentOf(app);
  const check = conformance(doc);
  const send = async (request: InjectOptions & { method: string; url: string }) => {
    handed = undefined;
    const answer = await app.inject(request);
    check.check(request, answer);
    if (handed !== undefined) {
      expect(answer.json(), `${request.method} ${request.url}`).toEqual(
        JSON.parse(JSON.stringify(handed)),
      );
    }
    return answer;
  };
  const post = (url: string, headers: Record<string, string>, payload?: unknown) =>
    send({
      method: 'POST',
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const get = (url: string, headers: Record<string, string> = operator) =>
    send({ method: 'GET', url, headers });
  return { doc, check, send, post, get };
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document, every $ref defined, with bearer schemes', async () => {
    fleet = await httpFleet();
    const doc = await documentOf(fleet.app);
    expect(doc.openapi).toBe('3.1.0');
    // The parser dereferences: a $ref to a schema not defined in the document fails here.
    await SwaggerParser.validate(structuredClone(doc) as never);
    expect(doc.components.securitySchemes).toMatchObject({
      nodeToken: { type: 'http', scheme: 'bearer' },
      operatorToken: { type: 'http', scheme: 'bearer' },
    });
    expect(doc.paths['/v1/nodes']?.post?.security).toEqual([
      { nodeToken: [] },
      { operatorToken: [] },
    ]);
    expect(doc.paths['/v1/nodes']?.get?.security).toEqual([{ operatorToken: [] }]);
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    expect(Object.keys(doc.paths['/v1/nodes']?.post?.responses ?? {}).sort()).toEqual(
      ['201', '400', '401', '403', '409', '413', '415', '500', '503'].sort(),
    );
    const error401 = doc.components.schemas['error-401'] as {
      properties: { error: { properties: { code: { enum: string[] } } } };
    };
    expect(error401.properties.error.properties.code.enum).toEqual(['WYNEOS_ERR_UNAUTHENTICATED']);
  });

  it('documents every answer of every route: status, headers and body', async () => {
    fleet = await httpFleet(
      { tickMs: 1000 },
      { heartbeatRate: { perSecond: 1, burst: 2 }, bodyLimit: 4096 },
    );
    const { node, operator, sup, advance } = fleet;
    const { doc, check, post, get, send } = await harness(fleet);

    expect((await get('/readyz', {})).statusCode).toBe(503);
    expect((await get('/v1/report')).json()).toEqual({ report: null });
    expect(
      (await post('/v1/nodes', node('n1'), { id: 'n1', labels: { zone: 'a' } })).statusCode,
    ).toBe(201);
    expect((await post('/v1/nodes', operator, { id: 'n2', version: '1.0.0' })).statusCode).toBe(
      201,
    );
    expect((await post('/v1/nodes', operator, { id: 'n3' })).statusCode).toBe(201);
    expect((await post('/v1/nodes', node('n1'), { id: 'n1' })).statusCode).toBe(409);
    expect((await post('/v1/nodes', node('n1'), { id: 'n1', x: 1 })).statusCode).toBe(400);
    expect((await post('/v1/nodes', node('n1'), { id: 'n9' })).statusCode).toBe(403);
    expect((await post('/v1/nodes', {}, { id: 'n9' })).statusCode).toBe(401);
    expect(
      (await post('/v1/nodes', operator, { id: 'n9', version: 'v'.repeat(5000) })).statusCode,
    ).toBe(413);
    const text = { ...operator, 'content-type': 'text/plain' };
    expect(
      (await send({ method: 'POST', url: '/v1/nodes', headers: text, payload: 'id=n9' }))
        .statusCode,
    ).toBe(415);

    const beat = (nodeId: string, seq: number) => ({
      nodeId,
      seq,
      load: 0.95,
      metrics: { cpu: 1 },
    });
    const single = await post('/v1/heartbeats', node('n1'), beat('n1', 1));
    expect(single.statusCode).toBe(200);
    expect(single.json()).toEqual({
      nodeId: 'n1',
      state: 'online',
      since: 0,
      reason: 'registered',
      boot: 1,
      actions: [],
    });
    expect(
      (await post('/v1/heartbeats', operator, [beat('n2', 1), beat('n3', 1)])).json().results,
    ).toHaveLength(2);
    expect((await post('/v1/heartbeats', node('n1'), beat('n1', 1))).statusCode).toBe(409);
    expect((await post('/v1/heartbeats', node('n1'), beat('n1', 2))).statusCode).toBe(429);
    expect((await post('/v1/heartbeats', operator, beat('nope', 1))).statusCode).toBe(404);
    expect((await post('/v1/heartbeats', operator, { nodeId: 'n2' })).statusCode).toBe(400);
    expect((await post('/v1/heartbeats', {}, beat('n2', 2))).statusCode).toBe(401);

    advance(1000);
    expect((await post('/v1/nodes/n2/isolate', operator, { reason: 'drill' })).statusCode).toBe(
      200,
    );
    expect((await post('/v1/nodes/nope/isolate', operator)).statusCode).toBe(404);
    expect((await post('/v1/nodes/n2/reinstate', operator)).statusCode).toBe(200);
    expect((await post('/v1/nodes/n3/protect', operator, { on: true })).json()).toEqual({
      nodeId: 'n3',
      protected: true,
    });
    expect((await post('/v1/nodes/n3/pin', operator)).json()).toEqual({
      nodeId: 'n3',
      pinned: true,
    });
    expect((await post('/v1/nodes/n3/pin', node('n3'))).statusCode).toBe(403);
    expect((await post('/v1/nodes/n3/pin', operator, { on: 'yes' })).statusCode).toBe(400);
    advance(3000);
    // After a tick with an overloaded node: pending actions, transitions, a report, an action log.
    const viewed = await get('/v1/nodes/n1', node('n1'));
    expect(viewed.json()).toMatchObject({
      node: { id: 'n1', labels: { zone: 'a' } },
      licence: null,
    });
    expect((await get('/v1/nodes/n2')).json().transitions.length).toBeGreaterThan(0);
    expect((await get('/v1/nodes/nope')).statusCode).toBe(404);
    expect((await get('/v1/nodes/n1', node('n2'))).statusCode).toBe(403);
    expect((await get('/v1/nodes?limit=1')).json()).toMatchObject({ next: 'n1' });
    expect((await get('/v1/nodes?state=online&after=n1')).statusCode).toBe(200);
    expect((await get('/v1/nodes?limit=0')).statusCode).toBe(400);
    expect((await get('/v1/nodes', node('n1'))).statusCode).toBe(403);
    const told = await post('/v1/heartbeats', node('n2'), beat('n2', 5));
    expect(told.json().actions.length).toBeGreaterThan(0);
    expect((await get('/v1/report')).json().report).not.toBeNull();
    expect((await get('/v1/actions?since=0&limit=100')).json().actions.length).toBeGreaterThan(0);
    expect((await get('/v1/actions?since=x')).statusCode).toBe(400);
    expect(
      (await post('/v1/licences/lic-1/revoke', operator, { reason: 'leaked' })).statusCode,
    ).toBe(200);
    expect((await post('/v1/licences/lic-1/revoke', operator, {})).statusCode).toBe(400);
    expect((await get('/v1/licences/revocations')).json().revocations).toHaveLength(1);
    expect((await get('/healthz', {})).statusCode).toBe(200);
    expect((await get('/readyz', {})).statusCode).toBe(200);
    expect((await get('/metrics', {})).statusCode).toBe(200);
    expect((await get('/v1/events', {})).statusCode).toBe(401);
    expect((await get('/', {})).statusCode).toBe(200);
    expect((await get('/dashboard/main.js', {})).statusCode).toBe(200);
    expect((await get('/dashboard/style.css', {})).statusCode).toBe(200);
    expect((await get('/dashboard/nope.js', {})).statusCode).toBe(404);
    expect((await get('/openapi.json', {})).statusCode).toBe(200);
    expect(
      (await send({ method: 'DELETE', url: '/v1/nodes/n3', headers: node('n3') })).statusCode,
    ).toBe(204);
    expect(
      (await send({ method: 'DELETE', url: '/v1/nodes/n3', headers: operator })).statusCode,
    ).toBe(404);
    await sup.stop();
    expect((await post('/v1/heartbeats', node('n1'), beat('n1', 6))).statusCode).toBe(503);

    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    expect([...check.called].sort()).toEqual(documented.sort());
  });
  it('documents the licence in heartbeat replies and node views', async () => {
    const keys = await generateLicenceKeys();
    fleet = await httpFleet({ licensing: { keys: [keys.publicJwk] } });
    const { node, operator, advance } = fleet;
    const { post, get } = await harness(fleet);
    const licence = await issueLicence({
      privateJwk: keys.privateJwk,
      id: 'lic-n1',
      subject: { node: 'n1' },
      notBefore: 0,
      expiresAt: 30 * 86_400_000,
    });
    expect((await post('/v1/nodes', node('n2'), { id: 'n2' })).statusCode).toBe(403);
    expect((await post('/v1/nodes', node('n1'), { id: 'n1', licence })).statusCode).toBe(201);
    const beat = await post('/v1/heartbeats', node('n1'), { nodeId: 'n1', seq: 1, load: 0.1 });
    expect(beat.json().licence).toMatchObject({ id: 'lic-n1', status: 'valid' });
    expect(
      (await post('/v1/licences/lic-n1/revoke', operator, { reason: 'ended' })).statusCode,
    ).toBe(200);
    advance(1000);
    const viewed = await get('/v1/nodes/n1');
    expect(viewed.json().licence).toMatchObject({
      nodeId: 'n1',
      status: 'revoked',
      reason: 'ended',
    });
    const told = await post('/v1/heartbeats', node('n1'), { nodeId: 'n1', seq: 2, load: 0.1 });
    expect(told.json().licence).toMatchObject({ status: 'revoked', reason: 'ended' });
  });
  it('mounts under a prefix in an application that documents its own routes too', async () => {
    const { sup } = simulatedSupervisor();
    const app = fastify({ routerOptions: { maxParamLength: 253 } });
    closeApp = async () => {
      await app.close();
      await sup.stop();
    };
    await app.register(swagger, {
      openapi: { openapi: '3.1.0', info: { title: 'mine', version: '1' } },
    });
    app.get('/mine', async () => ({ ok: true }));
    await app.register(wyneosPlugin, { supervisor: sup, prefix: '/wyneos', secret: testSecret });
    await app.ready();
    expect(Object.keys(app.swagger().paths ?? {})).toEqual(['/mine']);
    const doc = (await app.inject({ url: '/wyneos/openapi.json' })).json();
    await SwaggerParser.validate(structuredClone(doc));
    expect(Object.keys(doc.paths)).toContain('/wyneos/v1/nodes/{id}');
    expect(Object.keys(doc.paths)).not.toContain('/mine');
  });
});
