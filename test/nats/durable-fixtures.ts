import { jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import type { DurableNode, DurableState } from '../../src/index.js';
import {
  buckets,
  changesStream,
  KvStateStore,
  keys,
  loadShard,
  ShardLog,
  type StoredNode,
} from '../../src/nats/index.js';
import { stateFormatVersion } from '../../src/storage/index.js';

// A supervisor's durable state as the NATS store tests write it: the smallest valid one.

/** A node in `state` since time 1 (isolated once if it is isolated). */
export function durableNode(
  id: string,
  state: DurableNode['state'],
  labels: DurableNode['labels'] = {},
): DurableNode {
  return {
    id,
    labels,
    registeredAt: 1,
    state,
    since: 1,
    reason: state,
    isolations: state === 'isolated' ? 1 : 0,
    reinstateAt: null,
    probationUntil: null,
    escalation: 0,
    seq: 1,
  };
}

/** A state holding `nodes` and nothing else. */
export function durableState(nodes: DurableNode[]): DurableState {
  return {
    format: 'wyneos-state',
    version: stateFormatVersion,
    savedAt: 10,
    boots: 1,
    policyVersion: 'p',
    nodes,
    overrides: { protected: [], pinned: [] },
    exemptions: [],
  };
}

/**
 * The change streams, emptied: the NATS store tests share one server, and a fresh bucket
 * with an old shard's entries would not be a fresh fleet.
 */
export async function freshChanges(nc: NatsConnection): Promise<ShardLog> {
  const changes = await ShardLog.open(nc);
  await (await jetstreamManager(nc)).streams.purge(changesStream);
  return changes;
}

/** A node as stored: its shard's checkpoint and change stream read. */
export async function storedNode(
  kv: KV,
  changes: ShardLog,
  shard: number,
  id: string,
): Promise<StoredNode | undefined> {
  return (await loadShard(kv, changes, shard)).nodes.get(id);
}

/**
 * Another supervisor takes shard 0 of a one-shard fleet from whoever holds it, as after a lapsed
 * lease: it puts the lease (its revision the fence) and claims the shard with a store of its own.
 */
export async function takeShardOver(nc: NatsConnection) {
  const leases = await new Kvm(nc).open(buckets.leases);
  const fence = await leases.put(keys.lease(0), 'other');
  const other = new KvStateStore(await new Kvm(nc).open(buckets.state), 2, {
    changes: await ShardLog.open(nc),
    shards: 1,
    windowMs: 3000,
    log: pino({ level: 'silent' }),
    fenceOf: () => fence,
    fenced: () => {},
  });
  await other.claim(0, fence);
  return { leases, other };
}
