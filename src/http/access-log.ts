import type { FastifyReply, FastifyRequest } from 'fastify';
import { routeConfig } from './context.js';

/** Which requests get an access log line: none, those answered 4xx or 5xx, or all. */
export type AccessLog = 'off' | 'errors' | 'all';

export const accessLogModes: readonly AccessLog[] = ['off', 'errors', 'all'];

// The dashboard's page may be opened with `?token=`: never write a token to a log.
const tokenInQuery = /([?&]token=)[^&]*/g;

/**
 * The `onResponse` hook writing one line a request through the request's logger (fastify's):
 * 5xx at error, 4xx at warn, the rest at info, except accepted heartbeats, at debug. Every
 * node sends one every interval (1,000 nodes at 1 s are 1,000 lines a second), which would
 * bury everything else at info; a refused heartbeat is still logged at warn.
 */
export function accessLogHook(mode: AccessLog) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const status = reply.statusCode;
    if (mode === 'off' || (mode === 'errors' && status < 400)) return;
    const line = {
      method: request.method,
      url: request.url.replace(tokenInQuery, '$1[redacted]'),
      status,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (status >= 500) request.log.error(line, 'request');
    else if (status >= 400) request.log.warn(line, 'request');
    else if (routeConfig(request).ingest === true) request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  };
}
