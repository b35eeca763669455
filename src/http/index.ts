export type { HeartbeatRate } from '../supervisor/heartbeat-rate.js';
export { nodeToken, operatorToken, parseSecret } from './auth.js';
export type { ErrorBody } from './error-reply.js';
export type { PendingAction } from './fleet-feed.js';
export { type WyneosPluginOptions, wyneosPlugin } from './plugin.js';
export type { HeartbeatReply } from './routes/heartbeats.js';
export { createServer, isLoopback } from './server.js';
