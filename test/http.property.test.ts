import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeSnapshot } from 'wyneos';
import { nodeToken } from 'wyneos/http';
import { collect, httpFleet } from './helpers.js';

// Hostile input: whatever a client sends, the server answers with a 4xx (a 200 only for the
// open read routes), never a 5xx, never crashes, and no node's state changes.

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet;
let before: NodeSnapshot[];
let actions: unknown[];
const ids = ['n1', 'n2', 'n3'];

beforeAll(async () => {
  fleet = await httpFleet({}, { heartbeatRate: { perSecond: 1e6, burst: 1e6 } });
  fleet.sup.registerMany(ids.map((id) => ({ id, labels: { zone: 'a' }, version: '1.0.0' })));
  for (const id of ids) fleet.sup.heartbeat({ nodeId: id, seq: 5, load: 0.3 });
  fleet.advance(1000);
  before = fleet.sup.nodes();
  actions = collect(fleet.sup.actions$);
});
afterAll(async () => {
  await fleet.close();
});

/** Nothing any request did may show: same nodes, same states, same telemetry, no action. */
function expectNothingChanged(): void {
  expect(fleet.sup.nodes()).toEqual(before);
  expect(fleet.sup.overrides()).toEqual({ protected: [], pinned: [] });
  expect(actions).toEqual([]);
}

// The dashboard's page and files are open too (they hold no data); any other path under
// /dashboard/ must be refused.
const dashboardFiles = ['/', '/dashboard/main.js', '/dashboard/style.css'];
const openRoutes = new Set(['/healthz', '/readyz', '/metrics', ...dashboardFiles]);
function expectRefused(method: string, url: string, status: number): void {
  const path = withoutDotSegments(url.split('?')[0] ?? '');
  if ((method === 'GET' || method === 'HEAD') && openRoutes.has(path) && status === 200) return;
  expect(status, `${method} ${url}`).toBeGreaterThanOrEqual(400);
  expect(status, `${method} ${url}`).toBeLessThan(500);
}

/** Clients resolve `.` and `..` before sending: `/dashboard/..` asks for `/`. */
function withoutDotSegments(path: string): string {
  const segments: string[] = [];
  const parts = path.split('/').slice(1);
  for (const part of parts) {
    if (part === '..') segments.pop();
    else if (part !== '.') segments.push(part);
  }
  if (parts.at(-1) === '..' || parts.at(-1) === '.') segments.push('');
  return `/${segments.join('/')}`;
}

const nasty = ['%', '%zz', '..', '%00', '%2F', '~', '%C3%A9', 'n1', 'ghost', '@operator', ''];
const segment = fc.oneof(
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom(...nasty),
);
const path = fc.oneof(
  fc.constantFrom('/v1/nodes', '/v1/heartbeats', '/v1/report', '/v1/actions', '/v1/events'),
  fc.constantFrom('/healthz', '/readyz', '/metrics', ...dashboardFiles),
  segment.map((name) => `/dashboard/${name}`),
  fc
    .tuple(segment, fc.constantFrom('', '/isolate', '/reinstate', '/protect', '/pin', '/x'))
    .map(([id, suffix]) => `/v1/nodes/${id}${suffix}`),
  fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
);
const url = fc
  .tuple(path, fc.option(fc.array(fc.tuple(segment, segment), { maxLength: 3 })))
  .map(([p, query]) => (query ? `${p}?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : p));
const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS');
const secret = Buffer.from('a test secret that is long enough');
// Never a token valid for the targets: none, garbage, another server's, or an outsider node's.
const badAuthorization = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 80 }),
  fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
  fc.constant(`Bearer ${nodeToken(Buffer.from('another server secret, long too'), 'n1')}`),
  fc.constant(`Bearer ${nodeToken(secret, 'intruder')}`),
  fc.constant(`Bearer @operator.${'A'.repeat(43)}`),
);
const contentType = fc.option(
  fc.oneof(
    fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
    fc.string({ maxLength: 30 }),
  ),
);
const rawBody = fc.option(
  fc.oneof(
    fc.json(),
    fc.string({ maxLength: 200 }),
    fc.constant('{"nodeId":"n1","seq":'),
    // Escapes that decode to lone surrogates.
    fc.constant('{"nodeId":"n1\\ud800","seq":9,"load":0,"metrics":{"\\udc00":1}}'),
  ),
);

/** Text with a lone surrogate in it: a JSON body's `"\ud800"` decodes to one. */
const withLoneSurrogate = fc
  .tuple(
    fc.string({ maxLength: 4 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
  )
  .map(([text, lone]) => text + lone);

// Bodies that can never be accepted, for requests that carry a valid token.
const validBeat = fc.record({
  nodeId: fc.constantFrom(...ids),
  seq: fc.integer({ min: 6, max: 1e9 }),
  load: fc.double({ min: 0, max: 1, noNaN: true }),
});
const brokenBeat = fc.oneof(
  validBeat.map(({ seq, ...rest }) => rest),
  validBeat.map(({ load, ...rest }) => rest),
  fc
    .tuple(validBeat, fc.oneof(fc.double({ min: 1.0001 }), fc.constant(-0.5), fc.string()))
    .map(([b, load]) => ({ ...b, load })),
  fc
    .tuple(
      validBeat,
      fc.oneof(fc.integer({ max: 5 }), fc.double({ min: 0.1, max: 0.9 }), fc.string()),
    )
    .map(([b, seq]) => ({ ...b, seq })),
  fc
    .tuple(validBeat, fc.string({ minLength: 1 }))
    .filter(([, k]) => !['nodeId', 'seq', 'load', 'metrics'].includes(k))
    .map(([b, k]) => ({ ...b, [k]: 1 })),
  validBeat.map((b) => ({ ...b, nodeId: 'ghost' })),
  validBeat.map((b) => ({ ...b, metrics: { mem: 'high' } })),
  fc.tuple(validBeat, withLoneSurrogate).map(([b, name]) => ({ ...b, metrics: { [name]: 1 } })),
  fc.tuple(validBeat, withLoneSurrogate).map(([b, nodeId]) => ({ ...b, nodeId })),
);
const brokenHeartbeats = fc.oneof(
  brokenBeat,
  fc.tuple(fc.array(validBeat, { maxLength: 2 }), brokenBeat).map(([good, bad]) => [...good, bad]),
  fc.constant([]),
);
const brokenRegistration = fc.oneof(
  fc.constantFrom(...ids).map((id) => ({ id })),
  fc
    .string()
    .filter((id) => !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/.test(id))
    .map((id) => ({ id })),
  fc.constant({ id: 'fresh', version: 'latest' }),
  fc.constant({ id: 'fresh', labels: { zone: 7 } }),
  fc.constant({ id: 'fresh', owner: 'me' }),
  withLoneSurrogate.map((zone) => ({ id: 'fresh', labels: { zone } })),
);
const brokenCommand = fc.oneof(
  fc.constant({ reason: '' }),
  fc.constant({ reason: 'x'.repeat(1025) }),
  fc.constant({ on: 'yes' }),
  fc.constant({ because: 'x' }),
  // A non-empty text or a JSON number or list; an empty body would be no body, which is valid
  // (and inject sends a payload of 0 as no body: seed -696039761 found it).
  fc.oneof(
    fc.integer().filter((n) => n !== 0),
    fc.string({ minLength: 1 }),
    fc.array(fc.integer()),
  ),
);
const writeWithValidToken = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    url: fc.constant('/v1/heartbeats'),
    payload: brokenHeartbeats,
  }),
  fc.record({
    method: fc.constant('POST'),
    url: fc.constant('/v1/nodes'),
    payload: brokenRegistration,
  }),
  fc.record({
    method: fc.constant('POST'),
    url: fc
      .tuple(fc.constantFrom(...ids), fc.constantFrom('isolate', 'reinstate', 'protect', 'pin'))
      .map(([id, c]) => `/v1/nodes/${id}/${c}`),
    payload: brokenCommand,
  }),
  fc.record({
    method: fc.constant('DELETE'),
    url: fc.constant('/v1/nodes/ghost'),
    payload: fc.constant(undefined),
  }),
);

describe('http (hostile input)', () => {
  it('answers random methods, paths, headers and bodies without a valid token with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        url,
        badAuthorization,
        contentType,
        rawBody,
        async (m, u, auth, type, body) => {
          const headers: Record<string, string> = {};
          if (auth !== undefined) headers.authorization = auth;
          if (type !== null) headers['content-type'] = type;
          const answer = await fleet.app.inject({
            method: m as 'GET',
            url: u,
            headers,
            ...(body === null || m === 'GET' || m === 'HEAD' ? {} : { payload: body }),
          });
          expectRefused(m, u, answer.statusCode);
          if (answer.statusCode >= 400 && m !== 'HEAD') {
            expect(answer.json().error.code).toMatch(/^WYNEOS_ERR_/);
          }
        },
      ),
      { numRuns: 2000 },
    );
    expectNothingChanged();
  });

  it('answers a valid token with a broken body, a taken id or an unknown node with a 4xx', async () => {
    const tokens = [fleet.operator, fleet.node('n1')];
    await fc.assert(
      fc.asyncProperty(
        writeWithValidToken,
        fc.constantFrom(...tokens),
        async (request, headers) => {
          const answer = await fleet.app.inject({
            method: request.method as 'POST',
            url: request.url,
            headers,
            ...(request.payload === undefined ? {} : { payload: request.payload as object }),
          });
          expectRefused(request.method, request.url, answer.statusCode);
          expect(answer.json().error.code).toMatch(/^WYNEOS_ERR_/);
        },
      ),
      { numRuns: 2000 },
    );
    expectNothingChanged();
  });

  it('survives random bytes and random requests over a real socket', async () => {
    const base = await fleet.app.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(base).port);
    const exchange = (bytes: Uint8Array) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
        let received = '';
        socket.on('data', (chunk) => {
          received += chunk.toString('latin1');
        });
        socket.on('close', () => resolve(received));
        socket.on('error', () => resolve(received));
      });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .tuple(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }))
            .map(([line, header]) => new TextEncoder().encode(`${line}\r\n${header}\r\n\r\n`)),
        ),
        async (bytes) => {
          const answer = await exchange(bytes);
          // Either no answer (an incomplete request the server drops) or a client error.
          if (answer !== '') expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
        },
      ),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(method, url, badAuthorization, rawBody, async (m, u, auth, body) => {
        const withBody = body !== null && m !== 'GET' && m !== 'HEAD';
        const answer = await fetch(`${base}${u}`, {
          method: m,
          headers: {
            ...(auth === undefined ? {} : { authorization: auth }),
            ...(withBody ? { 'content-type': 'application/json' } : {}),
          },
          ...(withBody ? { body } : {}),
        });
        await answer.arrayBuffer();
        expectRefused(m, u, answer.status);
      }),
      { numRuns: 150 },
    );
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expectNothingChanged();
  });
});
