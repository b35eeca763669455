import { closed, errorCodesByStatus, integer, open, ref, text } from './shared-schemas.js';

// The JSON Schemas of what each route answers, by status. Fastify serialises each reply with
// them (fast-json-stringify), and @fastify/swagger renders them into the OpenAPI document: one
// source, so the document cannot drift from the replies. The conformance test holds every
// reply to them (test/http-openapi.test.ts).

const authenticate = {
  'www-authenticate': {
    type: 'string',
    description: 'Bearer realm="wyneos", with error="invalid_token" when a token was sent',
  },
};

const retryAfter = {
  'retry-after': { type: 'integer', description: 'seconds until the node may send again' },
};

const errorDescriptions: Readonly<Record<number, string>> = {
  400: 'The body, a path parameter or a query parameter is invalid.',
  401: 'No token, or one this server did not issue.',
  403: 'The token does not allow this.',
  404: 'No such node (or route).',
  409: 'The request conflicts with what the supervisor holds.',
  413: 'The body is over the size limit.',
  415: 'The body is not sent as application/json.',
  429: 'The node sends heartbeats faster than its rate; see Retry-After.',
  500: 'The server failed: a bug, logged with its cause.',
  503: 'The supervisor cannot take this now; see Retry-After where sent.',
};

/** The documented answer of one error status: its body, and its headers. */
export function errorReply(status: number): object {
  if (!errorCodesByStatus.has(status)) throw new Error(`no error code answers ${status}`);
  return {
    'x-response-description': errorDescriptions[status] ?? `Error ${status}`,
    ...ref(`wyneos.error-${status}`),
    ...(status === 401 ? { headers: authenticate } : {}),
    ...(status === 429 ? { headers: retryAfter } : {}),
  };
}

const json = (description: string, schema: object) => ({
  'x-response-description': description,
  ...schema,
});
const content = (description: string, ...types: string[]) => ({
  description,
  content: Object.fromEntries(types.map((type) => [type, { schema: { type: 'string' } }])),
});

const rateHeaders = {
  'ratelimit-limit': { type: 'integer', description: 'the burst of the node bucket' },
  'ratelimit-remaining': { type: 'integer', description: 'heartbeats it may send at once now' },
  'ratelimit-reset': { type: 'integer', description: 'seconds until its bucket is full again' },
};

// A node another supervisor holds, as that one answered for it (RemoteNodeView).
const remoteNode = closed(['node', 'licence', 'rules', 'source'], {
  node: ref('wyneos.node'),
  licence: { anyOf: [{ type: 'null' }, ref('wyneos.node-licence')] },
  rules: { type: 'array', items: open },
  source: closed(['supervisor', 'shard'], { supervisor: text, shard: integer }),
});

/** The success answers of each route, by status; errors are added by the plugin. */
export const replies = {
  register: { 201: json('Registered.', closed(['node'], { node: ref('wyneos.node') })) },
  deregister: { 204: { type: 'null', description: 'Deregistered.' } },
  nodes: {
    200: json(
      "A page of nodes, in registration order; `next` is the `after` of the next page. On NATS, the nodes this supervisor holds; with `fleet=true` every shard's, by shard, and `missingShards` the shards whose holder did not answer.",
      closed(['nodes'], {
        nodes: { type: 'array', items: ref('wyneos.node') },
        next: text,
        missingShards: { type: 'array', items: integer },
      }),
    ),
  },
  node: {
    200: {
      'x-response-description':
        'One node, its licence, the rules as they judge it, its recent transitions and pending actions; or, for a node another supervisor of a NATS fleet holds, its view, licence and rules as that one answered now, and `source` naming it.',
      if: { type: 'object', required: ['source'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited
      then: remoteNode,
      else: closed(['node', 'licence', 'rules', 'transitions', 'pendingActions'], {
        node: ref('wyneos.node'),
        licence: { anyOf: [{ type: 'null' }, ref('wyneos.node-licence')] },
        rules: { type: 'array', items: open },
        transitions: { type: 'array', items: ref('wyneos.transition') },
        pendingActions: { type: 'array', items: ref('wyneos.pending-action') },
      }),
    },
  },
  heartbeats: {
    200: {
      'x-response-description':
        'Taken: one reply for one heartbeat, `{ results }` in order for a batch.',
      headers: rateHeaders,
      if: { type: 'object', required: ['results'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited
      then: closed(['results'], {
        results: { type: 'array', items: ref('wyneos.heartbeat-reply') },
      }),
      else: ref('wyneos.heartbeat-reply'),
    },
  },
  nodeCommand: { 200: json('Done, and durable.', closed(['node'], { node: ref('wyneos.node') })) },
  protect: {
    200: json(
      'Done, and durable.',
      closed(['nodeId', 'protected'], { nodeId: text, protected: { type: 'boolean' } }),
    ),
  },
  pin: {
    200: json(
      'Done, and durable.',
      closed(['nodeId', 'pinned'], { nodeId: text, pinned: { type: 'boolean' } }),
    ),
  },
  revoke: {
    200: json('Revoked.', closed(['revocation'], { revocation: ref('wyneos.revocation') })),
  },
  revocations: {
    200: json(
      'Every revoked licence.',
      closed(['revocations'], { revocations: { type: 'array', items: ref('wyneos.revocation') } }),
    ),
  },
  report: {
    200: json(
      'The latest governance report, null before the first tick.',
      closed(['report'], { report: { anyOf: [{ type: 'null' }, open] } }),
    ),
  },
  actions: {
    200: json(
      'Action steps after the cursor `since`; `next` is the `since` of the next page.',
      closed(['actions', 'next'], {
        actions: { type: 'array', items: ref('wyneos.action') },
        next: integer,
      }),
    ),
  },
  healthz: {
    200: json(
      'The process answers.',
      closed(['status'], { status: { type: 'string', enum: ['ok'] } }),
    ),
  },
  readyz: {
    200: json(
      'Ready: ticking, not stopping, storage writable.',
      closed(['status', 'tick'], { status: { type: 'string', enum: ['ready'] }, tick: integer }),
    ),
    503: json(
      'Not ready, and why.',
      closed(['status', 'reason'], {
        status: { type: 'string', enum: ['not-ready'] },
        reason: text,
        degraded: { type: 'array', items: text },
      }),
    ),
  },
  metrics: { 200: content('Prometheus text format.', 'text/plain') },
  events: { 200: content('Server-Sent Events.', 'text/event-stream') },
  dashboardPage: {
    200: content('The dashboard page.', 'text/html'),
    308: { type: 'null', description: 'To the same path with a trailing slash.' },
  },
  dashboardFile: {
    200: content('A script or style sheet of the dashboard.', 'text/javascript', 'text/css'),
  },
  openapi: { 200: json('This document.', open) },
} as const;

/** The documented answers of the error statuses a route answers beyond its kind's own. */
export function errorReplies(...statuses: readonly number[]): Record<number, object> {
  return Object.fromEntries(statuses.map((status) => [status, errorReply(status)]));
}
