export type { TelemetryColumns } from './columns.js';
export {
  describeSchemaError,
  heartbeatSchema,
  nodeIdPattern,
  registrationSchema,
  wellFormedPattern,
} from './schemas.js';
export { TelemetryStore } from './store.js';
export type {
  DetectorState,
  Heartbeat,
  HeartbeatAck,
  Mutable,
  NodeRecord,
  NodeRegistration,
} from './types.js';
export { heartbeatProblem, parseHeartbeat, parseRegistration } from './validate.js';
