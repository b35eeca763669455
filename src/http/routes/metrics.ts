import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidArgumentError, UnauthenticatedError } from '../../errors.js';
import { show } from '../../show.js';
import type { HttpMetrics } from '../metrics.js';
import { errorReplies, replies } from '../responses.js';

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
  const schema = {
    summary: 'Prometheus metrics',
    response: token === undefined ? replies.metrics : { ...replies.metrics, ...errorReplies(401) },
  };
  app.get(
    '/metrics',
    { config: { access: 'open' }, onRequest, schema },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
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
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const given = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
    // Digests of equal length: the comparison takes as long whatever the token given.
    if (timingSafeEqual(digest(given ?? ''), expected) && given !== undefined) return;
    // sendError names the scheme (WWW-Authenticate), as on every 401.
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
