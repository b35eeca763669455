import type { FastifyRequest } from 'fastify';
import type { HeartbeatRate } from '../supervisor/heartbeat-rate.js';
import type { Supervisor } from '../supervisor/index.js';
import { type Access, type Authenticator, assertAccess, type Principal } from './auth.js';
import type { BodyKind } from './error-reply.js';
import type { EventBroadcast, StreamLimits } from './event-broadcast.js';
import type { FleetFeed } from './fleet-feed.js';
import type { HttpMetrics } from './metrics.js';

/** What every route module is handed by the plugin. */
export interface RouteContext {
  readonly supervisor: Supervisor;
  readonly feed: FleetFeed;
  readonly metrics: HttpMetrics;
  /** The rate of heartbeats over HTTP, per node, on the supervisor's per-node buckets. */
  readonly heartbeatRate: HeartbeatRate;
  /** Undefined when the plugin runs without a secret: every request acts as the operator. */
  readonly auth: Authenticator | undefined;
  /** The event streams open now, all fed from one subscription. */
  readonly events: EventBroadcast;
  readonly streamLimits: StreamLimits;
}

/** What a wyneos route says about itself in its fastify `config`. */
export interface RouteConfig {
  readonly access: Access;
  readonly bodyKind?: BodyKind;
  /** The heartbeat route: its rejections are counted by reason. */
  readonly ingest?: boolean;
}

// The route config's keys, known to fastify's types (a route's config is otherwise a weak type
// once a plugin such as @fastify/swagger declares a key of its own in it).
declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    bodyKind?: BodyKind;
    ingest?: boolean;
  }
}

const operator: Principal = { kind: 'operator' };
const principals = new WeakMap<FastifyRequest, Principal>();

export function routeConfig(request: FastifyRequest): Partial<RouteConfig> {
  return request.routeOptions.config as Partial<RouteConfig>;
}

/** Verifies the request's token against what its route asks for; throws 401 or 403 errors. */
export function authenticate(request: FastifyRequest, auth: Authenticator | undefined): void {
  const access = routeConfig(request).access ?? 'open';
  if (access === 'open') return;
  const principal = auth === undefined ? operator : auth.verify(request.headers.authorization);
  assertAccess(principal, access);
  principals.set(request, principal);
}

/** Who the request speaks for; only on routes that are not open. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  // Never default to the operator: a route that forgot its access must fail closed.
  if (principal === undefined) throw new Error(`route ${request.url} declares no access`);
  return principal;
}
