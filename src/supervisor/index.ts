export { createShardHost, createSupervisor } from './create-supervisor.js';
export type { DetectorOption } from './detector-option.js';
export type { HeartbeatRate } from './heartbeat-rate.js';
export { defaultOptions } from './options.js';
export {
  type FleetPage,
  type FleetQuery,
  type RemoteCommand,
  type RemoteNodes,
  type RemoteNodeView,
  remoteNodesKey,
  remoteNodesOf,
} from './remote-nodes.js';
export type { PeerCounts, ShardHost, SupervisorInternals } from './shard-host.js';
export type {
  AdmissionDecision,
  FleetHealth,
  HeartbeatBatchOptions,
  HeartbeatResult,
  StorageStatus,
  Supervisor,
  SupervisorOptions,
  TickSummary,
} from './types.js';
