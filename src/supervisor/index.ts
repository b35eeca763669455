export { createShardHost, createSupervisor } from './create-supervisor.js';
export { defaultOptions } from './options.js';
export type { PeerCounts, ShardHost, SupervisorInternals } from './shard-host.js';
export type {
  AdmissionDecision,
  FleetHealth,
  StorageStatus,
  Supervisor,
  SupervisorOptions,
  TickSummary,
} from './types.js';
