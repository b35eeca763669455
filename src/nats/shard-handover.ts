import type { Logger } from '../logger.js';
import type { ShardHost } from '../supervisor/index.js';
import type { EnforcementPublisher } from './enforcement.js';
import type { HeartbeatSubscriber } from './heartbeat-subscriber.js';
import type { KvStateStore } from './kv-state-store.js';
import type { LeaseHandlers, ShardLeases } from './leases.js';
import type { ShardAnswers } from './shard-answers.js';
import type { SharedSettings } from './shared-settings.js';
import { shardOf } from './subjects.js';

/** The parts of a distributed supervisor that a shard joins and leaves. */
export interface HandoverParts {
  readonly id: string;
  readonly shards: number;
  readonly supervisor: ShardHost;
  readonly stateStore: KvStateStore;
  readonly enforcement: EnforcementPublisher;
  readonly subscriber: HeartbeatSubscriber;
  readonly answers: ShardAnswers;
  readonly settings: SharedSettings;
  readonly leases: () => ShardLeases | undefined;
  /** Whether the supervisor is stopping (a shard let go then is not its concern). */
  readonly stopping: () => boolean;
  readonly log: Logger;
}

/**
 * What a distributed supervisor does as its shards come and go: the lease handlers, and `letGo`
 * for a shard whose lease was lost or whose writes were fenced off.
 */
export function shardHandover(parts: HandoverParts): {
  readonly handlers: LeaseHandlers;
  readonly letGo: (shard: number) => void;
} {
  const { id, shards, supervisor, stateStore, enforcement, subscriber, answers, settings } = parts;

  function nodesOf(shard: number): string[] {
    return supervisor
      .nodes()
      .map((node) => node.id)
      .filter((nodeId) => shardOf(nodeId, shards) === shard);
  }

  function letGo(shard: number): void {
    if (parts.stopping()) return;
    subscriber.drop(shard);
    answers.drop(shard);
    const nodeIds = nodesOf(shard);
    // What was decided for them and not yet written (a save that failed, or never started
    // because its flush failed) stays with the store, which writes it if this supervisor
    // takes the shard back before anyone else has: the retry would otherwise have no node to
    // save, and an answer that the change is saved once storage recovers would be a lie.
    stateStore.release(shard, supervisor.records(nodeIds));
    supervisor.release(nodeIds);
    enforcement.handOver(nodeIds);
  }

  const handlers: LeaseHandlers = {
    async acquired(shard, fence) {
      const { nodes, overrides, untold } = await stateStore.claim(shard, fence);
      supervisor.adopt(nodes, overrides);
      // What the former holder decided and stored but may not have told (it died first).
      enforcement.tellTaken(untold);
      // The fleet's overrides, not those the nodes were saved with, hold for them.
      settings.apply();
      subscriber.hold(shard);
      answers.hold(shard);
      parts.log.info({ shard, nodes: nodes.length }, 'shard taken over');
    },
    async releasing(shard) {
      subscriber.drop(shard);
      answers.drop(shard);
      // What was decided for the shard's nodes is written before anyone else may take it:
      // their last state is committed as they leave, and none of them is deleted in KV.
      stateStore.drain(shard);
      const nodeIds = nodesOf(shard);
      const records = supervisor.records(nodeIds);
      supervisor.release(nodeIds);
      await supervisor.durable().catch(() => {});
      await enforcement.settled();
      enforcement.handOver(nodeIds);
      // If that write failed, the store keeps what KV lacks, as when a lease runs out.
      stateStore.release(shard, records);
    },
    lost: letGo,
    async scanned() {
      // Changes kept for a shard that another supervisor holds now will never be written
      // here (its view stands); until then they make durable() wait.
      const leases = parts.leases();
      for (const shard of stateStore.waiting()) {
        if (leases?.fence(shard) !== undefined) continue;
        const holder = await leases?.holder(shard);
        if (holder !== undefined && holder !== id) stateStore.abandon(shard);
      }
    },
  };
  return { handlers, letGo };
}
