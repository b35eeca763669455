import { jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DurableNode, DurableState } from '../../src/index.js';
import { changesStream, loadShard, ShardLog, type StoredNode } from '../../src/nats/index.js';
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
