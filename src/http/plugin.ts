import type { FastifyPluginAsync } from 'fastify';
import { type Clock, systemClock } from '../clock.js';
import { InvalidArgumentError } from '../errors.js';
import { show } from '../show.js';
import type { HeartbeatRate, Supervisor } from '../supervisor/index.js';
import { type NodeBook, nodeBookKey } from '../supervisor/node-book.js';
import { packageVersion } from '../version.js';
import { type AccessLog, accessLogHook, accessLogModes } from './access-log.js';
import { Authenticator, parseSecret } from './auth.js';
import { authenticate, type RouteContext, routeConfig } from './context.js';
import { sendError, toWyneosError } from './error-reply.js';
import { EventBroadcast, type StreamLimits } from './event-broadcast.js';
import { FleetFeed } from './fleet-feed.js';
import { KnownPaths } from './methods.js';
import { HttpMetrics, rejectReason } from './metrics.js';
import { documentRoutes } from './openapi.js';
import { dashboardRoutes, loadDashboardAssets } from './routes/dashboard.js';
import { fleetRoutes } from './routes/fleet.js';
import { heartbeatRoutes } from './routes/heartbeats.js';
import { metricsRoutes, parseMetricsToken } from './routes/metrics.js';
import { nodeRoutes } from './routes/nodes.js';
import { operatorRoutes } from './routes/operator.js';
import { eventRoutes } from './sse.js';
import { validatorCompiler } from './validation.js';

// Names each plugin's feed in the node book (one supervisor may serve several plugins).
let feeds = 0;

/** The options of {@link wyneosPlugin} (fastify's own `prefix` goes beside them). */
export interface WyneosPluginOptions {
  /** The supervisor the routes serve; the plugin neither starts nor stops it. */
  readonly supervisor: Supervisor;
  /**
   * The server secret tokens are derived from (at least 16 bytes). Without it every request
   * is allowed and a warning is logged: run it that way only behind your own authentication.
   * @defaultValue none
   */
  readonly secret?: string | Buffer;
  /**
   * How fast one node may send heartbeats over HTTP; faster gets 429 with `Retry-After`. It is
   * applied by the supervisor, on the same per-node bucket as the supervisor's own
   * `heartbeatRate` (which limits in-process and NATS heartbeats).
   * @defaultValue `{ perSecond: 10, burst: 20 }`
   */
  readonly heartbeatRate?: Partial<HeartbeatRate>;
  /**
   * The largest request body accepted, in bytes; larger gets 413.
   * @defaultValue 1048576 (1 MiB: a batch of 1,000 heartbeats with a few metrics is about 100 KiB)
   */
  readonly bodyLimit?: number;
  /**
   * Mount `GET /metrics` (Prometheus text format).
   * @defaultValue true
   */
  readonly metrics?: boolean;
  /**
   * When set, `GET /metrics` answers only requests with `Authorization: Bearer <metricsToken>`
   * (Prometheus: `authorization: { credentials_file: ... }`); others get 401
   * `WYNEOS_ERR_UNAUTHENTICATED`. At least 16 visible ASCII characters.
   * @defaultValue none: `/metrics` is open
   */
  readonly metricsToken?: string;
  /**
   * The clock of the event stream's heartbeat comments; pass the supervisor's. (The heartbeat
   * rate limit runs on the supervisor's own clock.)
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Serve the dashboard: the page at `/` (under the prefix) and its files at `/dashboard/*`.
   * The page and its files are open; the data it shows needs the operator's token.
   * @defaultValue true
   */
  readonly dashboard?: boolean;
  /**
   * Event streams (`GET /v1/events`) open at once; one more gets 503
   * `WYNEOS_ERR_TOO_MANY_STREAMS` with `Retry-After`. Each event is serialised once for all.
   * @defaultValue 256
   */
  readonly maxSseClients?: number;
  /**
   * Bytes an event stream may hold unsent for a client that reads too slowly; past it the
   * client is dropped (and counted in `wyneos_sse_clients_dropped_total`).
   * @defaultValue 1048576 (1 MiB)
   */
  readonly sseBufferLimit?: number;
  /**
   * Events kept for event streams that reconnect with `Last-Event-ID`: such a client gets
   * every event it missed, or `event: reset` when they are no longer all kept.
   * @defaultValue 10000
   */
  readonly sseReplay?: number;
  /**
   * The `retry:` sent on every event stream: how long a client waits before it reconnects.
   * @defaultValue 3000 (ms)
   */
  readonly sseRetryMs?: number;
  /**
   * How often (on `clock`) every event stream gets a comment, so that proxies keep idle
   * streams open.
   * @defaultValue 15000 (ms)
   */
  readonly sseHeartbeatMs?: number;
  /**
   * Serve the OpenAPI 3.1 document of these routes at `GET /openapi.json` (open, like
   * `/healthz`: it holds no fleet data); `wyneos openapi` prints the same document.
   * @defaultValue true
   */
  readonly openapi?: boolean;
  /**
   * One log line a request through fastify's logger: `'all'`, `'errors'` (answers 4xx and
   * 5xx) or `'off'`. Accepted heartbeats are logged at `debug`, the rest at `info` (4xx at
   * `warn`, 5xx at `error`).
   * @defaultValue 'all'
   */
  readonly accessLog?: AccessLog;
}

const defaultPluginOptions = {
  heartbeatRate: { perSecond: 10, burst: 20 },
  bodyLimit: 1024 * 1024,
  metrics: true,
  dashboard: true,
  maxSseClients: 256,
  sseBufferLimit: 1024 * 1024,
  sseReplay: 10_000,
  sseRetryMs: 3000,
  sseHeartbeatMs: 15_000,
  openapi: true,
  accessLog: 'all',
} as const;

/** The longest node id must fit in a path parameter. */
const longestNodeId = 253;

/**
 * The wyneos HTTP API as a fastify plugin: registration, heartbeats, views, operator commands,
 * Server-Sent Events, health, Prometheus metrics and the dashboard. Every route answers errors as
 * `{ error: { code, message, path } }`.
 *
 * @example
 * const app = fastify({ routerOptions: { maxParamLength: 253 } });
 * await app.register(wyneosPlugin, { supervisor, secret, prefix: '/wyneos' });
 */
export const wyneosPlugin: FastifyPluginAsync<WyneosPluginOptions> = async (app, options) => {
  const resolved = resolvePluginOptions(options);
  const { supervisor } = resolved;
  const log = app.log.child({ component: 'http' });
  if (resolved.auth === undefined) {
    log.warn('wyneos HTTP API runs without a secret: every request is allowed');
  }
  const maxParamLength = app.initialConfig.routerOptions?.maxParamLength ?? 100;
  if (maxParamLength < longestNodeId) {
    log.warn(
      { maxParamLength },
      `node ids longer than maxParamLength get 404 in paths: create fastify with routerOptions: { maxParamLength: ${longestNodeId} }`,
    );
  }

  const feed = new FleetFeed(supervisor);
  // The feed keeps per-node lists: the supervisor's node book forgets a node in them too,
  // however the node leaves (a DELETE, a deregistration in code, a NATS shard handed over).
  const book = (supervisor as { [nodeBookKey]?: NodeBook })[nodeBookKey];
  const feedPart = `http-feed-${++feeds}`;
  book?.add(feedPart, feed);
  const metrics = new HttpMetrics(supervisor, feed);
  const ctx: RouteContext = {
    supervisor,
    feed,
    metrics,
    heartbeatRate: resolved.heartbeatRate,
    auth: resolved.auth,
    events: new EventBroadcast(supervisor, resolved.streamLimits, metrics, log, resolved.clock),
    streamLimits: resolved.streamLimits,
  };

  app.setValidatorCompiler(validatorCompiler);
  // Bodies are JSON; fastify also parses text/plain, which would only fail later, less clearly.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (request) => authenticate(request, ctx.auth));
  app.setErrorHandler((error, request, reply) => {
    const config = routeConfig(request);
    const { status, error: answer } = toWyneosError(
      error,
      request,
      config.bodyKind ?? 'other',
      resolved.bodyLimit,
    );
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (config.ingest === true && answer.code !== 'WYNEOS_ERR_INTERNAL') {
      const count = Array.isArray(request.body) ? request.body.length : 1;
      ctx.metrics.heartbeatsRejected(rejectReason(answer.code), count);
    }
    return sendError(reply, status, answer);
  });
  const known = new KnownPaths();
  app.setNotFoundHandler(known.notFound);
  if (resolved.accessLog !== 'off') app.addHook('onResponse', accessLogHook(resolved.accessLog));
  app.addHook('preClose', async () => {
    ctx.events.endAll();
  });
  app.addHook('onClose', async () => {
    ctx.events.close();
    book?.remove(feedPart);
    feed.close();
    ctx.metrics.close();
  });

  app.addHook('onRoute', (route) => {
    route.bodyLimit = resolved.bodyLimit;
    known.add(route);
  });
  await documentRoutes(app, { version: packageVersion() }, resolved.openapi);

  nodeRoutes(app, ctx);
  heartbeatRoutes(app, ctx);
  operatorRoutes(app, ctx);
  fleetRoutes(app, ctx);
  if (resolved.metrics) metricsRoutes(app, metrics, resolved.metricsToken);
  eventRoutes(app, ctx);
  if (resolved.dashboard) dashboardRoutes(app, await loadDashboardAssets());
};

interface ResolvedPluginOptions {
  readonly supervisor: Supervisor;
  readonly auth: Authenticator | undefined;
  readonly heartbeatRate: HeartbeatRate;
  readonly bodyLimit: number;
  readonly metrics: boolean;
  readonly metricsToken: string | undefined;
  readonly dashboard: boolean;
  readonly streamLimits: StreamLimits;
  readonly clock: Clock;
  readonly openapi: boolean;
  readonly accessLog: AccessLog;
}

function resolvePluginOptions(options: WyneosPluginOptions): ResolvedPluginOptions {
  const { supervisor, secret, heartbeatRate = {} } = options;
  if (typeof supervisor?.heartbeat !== 'function' || typeof supervisor.nodes !== 'function') {
    throw new InvalidArgumentError(
      'wyneosPlugin supervisor',
      'expected a supervisor from createSupervisor',
    );
  }
  const defaults = defaultPluginOptions.heartbeatRate;
  const rate = {
    perSecond: atLeast(heartbeatRate.perSecond ?? defaults.perSecond, 'heartbeatRate.perSecond', 0),
    burst: atLeast(heartbeatRate.burst ?? defaults.burst, 'heartbeatRate.burst', 1),
  };
  const metrics = options.metrics ?? defaultPluginOptions.metrics;
  return {
    supervisor,
    auth:
      secret === undefined
        ? undefined
        : new Authenticator(parseSecret(secret, 'wyneosPlugin secret')),
    heartbeatRate: rate,
    bodyLimit: Math.floor(
      atLeast(options.bodyLimit ?? defaultPluginOptions.bodyLimit, 'bodyLimit', 1),
    ),
    metrics,
    metricsToken: metricsToken(options.metricsToken, metrics),
    dashboard: options.dashboard ?? defaultPluginOptions.dashboard,
    openapi: options.openapi ?? defaultPluginOptions.openapi,
    accessLog: oneOf(options.accessLog ?? defaultPluginOptions.accessLog, accessLogModes),
    streamLimits: {
      maxClients: Math.floor(
        atLeast(options.maxSseClients ?? defaultPluginOptions.maxSseClients, 'maxSseClients', 1),
      ),
      maxBufferedBytes: Math.floor(
        atLeast(options.sseBufferLimit ?? defaultPluginOptions.sseBufferLimit, 'sseBufferLimit', 1),
      ),
      replayEvents: Math.floor(
        atLeast(options.sseReplay ?? defaultPluginOptions.sseReplay, 'sseReplay', 1),
      ),
      retryMs: Math.floor(
        atLeast(options.sseRetryMs ?? defaultPluginOptions.sseRetryMs, 'sseRetryMs', 1),
      ),
      heartbeatMs: atLeast(
        options.sseHeartbeatMs ?? defaultPluginOptions.sseHeartbeatMs,
        'sseHeartbeatMs',
        1,
      ),
    },
    clock: options.clock ?? systemClock,
  };
}

function metricsToken(token: unknown, mounted: boolean): string | undefined {
  if (token === undefined) return undefined;
  const checked = parseMetricsToken(token, 'wyneosPlugin metricsToken');
  if (!mounted) {
    throw new InvalidArgumentError('wyneosPlugin metricsToken', 'needs metrics: true');
  }
  return checked;
}

function oneOf<T extends string>(value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) {
    const expected = allowed.map((mode) => `'${mode}'`).join(', ');
    throw new InvalidArgumentError(
      'wyneosPlugin accessLog',
      `must be one of ${expected}, got ${show(value)}`,
    );
  }
  return value;
}

/** A finite number above `minimum` (or equal to it when it is 1). */
function atLeast(value: unknown, name: string, minimum: 0 | 1): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minimum === 0 ? value > 0 : value >= minimum);
  if (!ok) {
    const wanted = minimum === 0 ? 'a positive number' : 'a number of at least 1';
    throw new InvalidArgumentError(`wyneosPlugin ${name}`, `must be ${wanted}, got ${show(value)}`);
  }
  return value as number;
}
