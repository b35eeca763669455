export { createNatsAgent, type NatsAgent, type NatsAgentOptions } from './agent.js';
export {
  checkServer,
  connectNats,
  minimumServerVersion,
  type NatsConnectOptions,
  requireServerFeature,
  type ServerFeature,
  serverFeatures,
  serverVersion,
} from './connection.js';
export {
  type DistributedOptions,
  type DistributedSupervisor,
  distributedDefaults,
  startDistributedSupervisor,
  startDistributedWith,
} from './distributed.js';
export { type EnforcementMessage, EnforcementPublisher } from './enforcement.js';
export { FleetCounts } from './fleet-counts.js';
export { HeartbeatSubscriber } from './heartbeat-subscriber.js';
export { KvStateStore, type ShardCounts, type StoredNode } from './kv-state-store.js';
export { type LeaseHandlers, ShardLeases } from './leases.js';
export { createRelay, type Relay, type RelayOptions } from './relay.js';
export { ingestRelayBatch, type RelayBatch, type RelayOutcome } from './relay-batches.js';
export {
  fleetAccount,
  type NatsServerConfigOptions,
  natsPassword,
  natsServerConfig,
  natsUrl,
  nodePermissions,
  relayPermissions,
  supervisorUser,
} from './server-config.js';
export { type LoggedChange, type ShardChange, ShardLog } from './shard-log.js';
export { StreamAuditLog } from './stream-audit-log.js';
export {
  auditStream,
  buckets,
  changesStream,
  checkShardCount,
  decodeId,
  encodeId,
  keys,
  nodeIdOfSubject,
  shardOf,
  subjects,
} from './subjects.js';
export { type LoadedShard, loadShard } from './takeover.js';
