import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  BatchRefusedError,
  InternalError,
  InvalidHeartbeatError,
  type WyneosError,
} from '../../errors.js';
import type { LicenceStatus } from '../../licensing/index.js';
import type { HeartbeatRate, HeartbeatResult } from '../../supervisor/index.js';
import type { NodeState } from '../../types.js';
import { principalOf, type RouteConfig, type RouteContext } from '../context.js';
import type { PendingAction } from '../fleet-feed.js';
import { errorReplies, replies } from '../responses.js';
import { heartbeatsBody } from '../validation.js';

/** What a node learns from each heartbeat it sends: how the supervisor sees it, what to do. */
export interface HeartbeatReply {
  readonly nodeId: string;
  readonly state: NodeState;
  readonly since: number;
  readonly reason: string;
  /** The supervisor's boot: send it as `boot` in the next heartbeats. */
  readonly boot: number;
  /** Actions decided for the node since its previous heartbeat, each handed out once. */
  readonly actions: readonly PendingAction[];
  /**
   * The node's licence, when it holds one: how the supervisor sees it now. A gated node is
   * `isolated` with a reason starting `licence:`, and this says why.
   */
  readonly licence?: {
    readonly id: string;
    readonly status: LicenceStatus;
    readonly expiresAt: number;
    readonly reason?: string;
  };
}

const config: RouteConfig = { access: 'node', bodyKind: 'heartbeat', ingest: true };

/**
 * `POST /v1/heartbeats`: one heartbeat, or a batch of up to 1,000 (one per node). A batch is
 * taken whole or not at all (`allOrNothing`). What is HTTP's own stays here: who the token
 * speaks for, the status code, the reply with the node's pending actions. Everything else
 * (validation, impersonation, unknown, rate, stale, trust) is the supervisor's heartbeat path.
 */
export function heartbeatRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { supervisor, feed, heartbeatRate, metrics } = ctx;

  app.post<{ Body: unknown }>(
    '/v1/heartbeats',
    {
      config,
      schema: {
        summary: 'Send heartbeats: one, or a batch of up to 1,000',
        body: heartbeatsBody,
        response: { ...replies.heartbeats, ...errorReplies(404, 409, 429, 503) },
      },
    },
    async (request, httpReply) => {
      const { body } = request;
      const batch = Array.isArray(body);
      const principal = principalOf(request);
      const results = supervisor.heartbeats(batch ? body : [body], {
        rate: heartbeatRate,
        allOrNothing: true,
        ...(principal.kind === 'node' ? { sender: principal.id } : {}),
      });
      const replies = new Array<HeartbeatReply>(results.length);
      // A batch's headers speak for its node nearest its limit.
      let tokens = Number.POSITIVE_INFINITY;
      for (let i = 0; i < results.length; i++) {
        const result = results[i] as HeartbeatResult;
        if (!result.ok) throw refusal(results, batch);
        replies[i] = reply(result, feed.takePending(result.nodeId));
        if (result.rateTokens !== undefined && result.rateTokens < tokens) {
          tokens = result.rateTokens;
        }
      }
      if (tokens !== Number.POSITIVE_INFINITY) rateHeaders(httpReply, heartbeatRate, tokens);
      metrics.heartbeatsAccepted(results.length);
      return batch ? { results: replies } : replies[0];
    },
  );
}

type Accepted = Extract<HeartbeatResult, { ok: true }>;

// The node's token bucket as the IETF RateLimit header fields tell it: its burst, the
// heartbeats it may send at once now, and the seconds until its bucket is full again.
function rateHeaders(httpReply: FastifyReply, rate: HeartbeatRate, tokens: number): void {
  httpReply.header('ratelimit-limit', rate.burst);
  httpReply.header('ratelimit-remaining', Math.max(0, Math.floor(tokens)));
  httpReply.header('ratelimit-reset', Math.ceil(Math.max(0, rate.burst - tokens) / rate.perSecond));
}

function reply(result: Accepted, actions: readonly PendingAction[]): HeartbeatReply {
  const { nodeId, state, since, reason, boot, licence: held } = result;
  if (held === undefined) return { nodeId, state, since, reason, boot, actions };
  const licence = {
    id: held.licence.id,
    status: held.status,
    expiresAt: held.licence.expiresAt,
    ...(held.reason === undefined ? {} : { reason: held.reason }),
  };
  return { nodeId, state, since, reason, boot, actions, licence };
}

// The error of the heartbeat that refused the batch; in a batch, a malformed one's path points
// at it (`/3/load`).
function refusal(results: readonly HeartbeatResult[], batch: boolean): WyneosError {
  for (let i = 0; i < results.length; i++) {
    const result = results[i] as HeartbeatResult;
    if (result.ok || result.error instanceof BatchRefusedError) continue;
    const { error } = result;
    return batch && error instanceof InvalidHeartbeatError ? error.within(`/${i}`) : error;
  }
  return new InternalError({ cause: 'a refused batch without its refusal' });
}
