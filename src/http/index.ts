export { type Access, nodeToken, operatorToken, type Principal, parseSecret } from './auth.js';
export type { ErrorBody } from './error-reply.js';
export type { PendingAction } from './fleet-feed.js';
export { defaultPluginOptions, type WyneosPluginOptions, wyneosPlugin } from './plugin.js';
export type { HeartbeatRate } from './rate-limit.js';
export type { HeartbeatReply } from './routes/heartbeats.js';
export { createServer, isLoopback, type ServerOptions } from './server.js';
