import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError, UnauthenticatedError } from '../../errors.js';
import { show } from '../../show.js';
import type { HttpMetrics } from '../metrics.js';

/**
 * `GET /metrics` in Prometheus's text format. With a token, only for `Authorization: Bearer
 * <token>` (what Prometheus sends with `authorization: { credentials: <token> }`); the node and
 * operator tokens do not open it.
 */
export function metricsRoutes(
  app: FastifyInstance,
  metrics: HttpMetrics,
  token: string | undefined,
): void {
  const onRequest = token === undefined ? [] : [requireToken(token)];
  app.get('/metrics', { config: { access: 'open' }, onRequest }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

// What Prometheus can send as a bearer token, and long enough not to be guessed.
const tokenPattern = /^[\x21-\x7e]{16,}$/;

/** Checks a metrics token given in code or on the command line (`source` names where). */
export function parseMetricsToken(token: unknown, source: string): string {
  if (typeof token !== 'string' || !tokenPattern.test(token)) {
    // Never echo the token itself: it may be the right one with a typo.
    const got = typeof token === 'string' ? `${token.length} characters` : show(token);
    throw new InvalidArgumentError(
      source,
      `must be at least 16 visible ASCII characters (no spaces), got ${got}`,
    );
  }
  return token;
}

function requireToken(token: string) {
  const expected = digest(token);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const given = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
    // Digests of equal length: the comparison takes as long whatever the token given.
    if (timingSafeEqual(digest(given ?? ''), expected) && given !== undefined) return;
    reply.header(
      'www-authenticate',
      header === undefined
        ? 'Bearer realm="wyneos"'
        : 'Bearer realm="wyneos", error="invalid_token"',
    );
    throw new UnauthenticatedError(
      header === undefined
        ? 'GET /metrics needs Authorization: Bearer <metrics token>'
        : 'not the metrics token',
    );
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
