import { type FastifyBaseLogger, type FastifyInstance, fastify, LogController } from 'fastify';
import { InvalidRequestError } from '../errors.js';
import type { Logger } from '../logger.js';
import { sendError } from './error-reply.js';
import { type WyneosPluginOptions, wyneosPlugin } from './plugin.js';

/** What `wyneos serve` runs: the plugin at the root of a fastify server of its own. */
export interface ServerOptions extends WyneosPluginOptions {
  readonly logger: Logger;
}

/**
 * A fastify server with the wyneos routes at its root, logging through `logger`, with room for
 * the longest node id in paths and wyneos errors for what fastify rejects before any route
 * (a malformed URL). Not listening yet.
 */
export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const { logger, ...pluginOptions } = options;
  const app: FastifyInstance = fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per heartbeat would drown everything else; failures are logged.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 253 },
    frameworkErrors: (error, _request, reply) => {
      const status =
        error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 400;
      void sendError(reply, status, new InvalidRequestError('', error.message.slice(0, 200)));
    },
  });
  await app.register(wyneosPlugin, pluginOptions);
  return app;
}

/** Whether `host` is a loopback address, the only kind a server without a secret may bind. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
