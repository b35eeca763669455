/**
 * wyneos/nats: a supervisor distributed over NATS (shards, leases, JetStream audit) and the
 * agent that reports to it. Loads the `@nats-io` client; `import 'wyneos'` does not.
 */
export type { LoadSample, LoadSource } from '../agent/load.js';
export { createNatsAgent, type NatsAgent, type NatsAgentOptions } from '../nats/agent.js';
export { minimumServerVersion as minimumNatsServerVersion } from '../nats/connection.js';
export {
  type DistributedOptions,
  type DistributedSupervisor,
  distributedDefaults,
  startDistributedSupervisor,
} from '../nats/distributed.js';
export { createRelay, type Relay, type RelayOptions } from '../nats/relay.js';
export { shardOf } from '../nats/subjects.js';
