/**
 * wyneos/http: the fastify plugin that serves a supervisor over HTTP, and the tokens its
 * agents and operators present. Loads fastify and prom-client; `import 'wyneos'` does not.
 */
export type { AccessLog } from '../http/access-log.js';
export { nodeToken, operatorToken } from '../http/auth.js';
export type { ErrorBody } from '../http/error-reply.js';
export type { PendingAction } from '../http/fleet-feed.js';
export { type WyneosPluginOptions, wyneosPlugin } from '../http/plugin.js';
export type { HeartbeatReply } from '../http/routes/heartbeats.js';
