import Fastify, { type FastifyInstance } from 'fastify';
import {
  InvalidRequestError,
  RelayFullError,
  UnauthenticatedError,
  WyneosError,
} from '../errors.js';
import type { Relay } from './relay.js';

/** A relay's HTTP face: heartbeats posted as to `wyneos serve`, one at a time or a batch. */
export interface RelayHttpOptions {
  readonly relay: Relay;
  /** Heartbeats in one request at most, as `POST /v1/heartbeats` allows. @defaultValue 1000 */
  readonly maxBatch?: number;
  /** How long a sender told the relay is full waits before trying again. @defaultValue 1 */
  readonly retryAfterS?: number;
}

/**
 * `POST /v1/heartbeats` with a node's token (`Authorization: Bearer <token>`), one heartbeat or
 * a batch, answered 202 once queued: the relay holds no secret and knows no node's state, so it
 * checks only the token's form, and the shard's supervisor checks the rest. A full queue is
 * answered 503 `WYNEOS_ERR_RELAY_FULL` with `Retry-After`, and nothing of the request is queued.
 */
export function createRelayHttp(options: RelayHttpOptions): FastifyInstance {
  const { relay, maxBatch = 1000, retryAfterS = 1 } = options;
  const app = Fastify({ logger: false });
  app.post<{ Body: unknown }>('/v1/heartbeats', async (request, reply) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      throw new UnauthenticatedError("send Authorization: Bearer <the node's token>");
    }
    const { body } = request;
    const beats = Array.isArray(body) ? body : [body];
    if (beats.length === 0 || beats.length > maxBatch) {
      throw new InvalidRequestError('', `send 1 to ${maxBatch} heartbeats, got ${beats.length}`);
    }
    relay.offerMany(header.slice(7).trim(), beats);
    return reply.code(202).send({ queued: beats.length });
  });
  app.setErrorHandler((error, _request, reply) => {
    const known = error instanceof WyneosError;
    const status = !known
      ? (error as { statusCode?: number }).statusCode === 400
        ? 400
        : 500
      : error instanceof RelayFullError
        ? 503
        : error instanceof UnauthenticatedError
          ? 401
          : 400;
    if (error instanceof RelayFullError) reply.header('retry-after', retryAfterS);
    const code = known
      ? error.code
      : status === 400
        ? 'WYNEOS_ERR_INVALID_REQUEST'
        : 'WYNEOS_ERR_INTERNAL';
    const message = known || status === 400 ? (error as Error).message : 'Internal error';
    return reply.code(status).send({ error: { code, message } });
  });
  return app;
}
