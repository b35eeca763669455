export { heartbeatSchema, nodeIdPattern, registrationSchema } from './schemas.js';
export { TelemetryStore } from './store.js';
export type { Heartbeat, NodeRecord, NodeRegistration } from './types.js';
export { parseHeartbeat, parseRegistration } from './validate.js';
