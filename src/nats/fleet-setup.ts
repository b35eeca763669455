import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV, Kvm, KvOptions } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidArgumentError, NatsError } from '../errors.js';
import { thrownMessage } from '../show.js';
import { isTimeout } from './connection.js';
import { keys } from './subjects.js';

// What a supervisor does once when it joins a fleet: its buckets and streams, the fleet's shard
// count, and the boot counter that makes each start's node lives distinct.

/**
 * Opens a stream, creating it if it is not there. Supervisors starting together race to create
 * it, and a server still setting up JetStream can time a request out: a timeout is tried again
 * (four attempts in all) before the start fails.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: { readonly name: string; readonly subjects: string[]; readonly num_replicas: number },
  what: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await jsm.streams.info(config.name).catch(async () => {
        // Not there yet, or being created by another supervisor: then the second add fails
        // and opening it is enough.
        await jsm.streams.add(config).catch(async (error: unknown) => {
          await jsm.streams.info(config.name).catch(() => {
            throw error;
          });
        });
      });
      return;
    } catch (error) {
      if (!isTimeout(error) || attempt === 4) {
        throw new NatsError(`Cannot create ${what}: ${thrownMessage(error)}`, { cause: error });
      }
    }
  }
}

/**
 * Creates a bucket, or opens it when another supervisor starting at the same moment created it
 * first (the server then refuses the second creation: its subjects overlap the first's).
 */
export async function bucket(kvm: Kvm, name: string, options: Partial<KvOptions>): Promise<KV> {
  try {
    return await kvm.create(name, options);
  } catch (error) {
    try {
      return await kvm.open(name);
    } catch {
      throw new NatsError(`Cannot create the KV bucket ${name}: ${thrownMessage(error)}`, {
        cause: error,
      });
    }
  }
}

/** The first supervisor sets the shard count; every later one (and every agent) must match. */
export async function agreeOnFleet(state: KV, shards: number, nc: NatsConnection): Promise<void> {
  try {
    await state.create(keys.fleet, JSON.stringify({ shards }));
  } catch {
    const entry = await state.get(keys.fleet);
    const existing = entry?.json<{ shards: number }>().shards;
    if (existing !== shards) {
      await nc.close();
      throw new InvalidArgumentError(
        'shards',
        `the fleet on this NATS server has ${existing} shards; start every supervisor with --shards ${existing}`,
      );
    }
  }
}

/** Adds one to the fleet's boot counter (compare-and-set, retried when another start raced). */
export async function countBoot(state: KV): Promise<number> {
  for (;;) {
    const entry = await state.get(keys.boots);
    const boots = entry?.operation === 'PUT' ? Number(entry.string()) + 1 : 1;
    try {
      if (entry === null || entry.operation !== 'PUT')
        await state.create(keys.boots, String(boots));
      else await state.update(keys.boots, String(boots), entry.revision);
      return boots;
    } catch {
      // Another supervisor started at the same moment: read again.
    }
  }
}
