import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervisor, type DurableState, type StateStore } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import {
  buckets,
  connectNats,
  type EnforcementMessage,
  EnforcementPublisher,
  keys,
  subjects,
} from '../../src/nats/index.js';
import { storageRetry } from '../../src/supervisor/storage-health.js';
import { captureLogger } from '../helpers.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

// A durable write that timed out dropped the enforcement batch it carried: the isolation was
// saved by the next commit, but the node was never told (no outbox key, no request). Each
// action is now kept until its node has been told, and told once.

/** A state store (asynchronous, as NATS KV is) whose next save can be made to fail. */
class FlakyStore implements StateStore {
  failNext = false;
  load(): undefined {
    return undefined;
  }
  save(_state: DurableState): Promise<void> {
    if (!this.failNext) return Promise.resolve();
    this.failNext = false;
    return Promise.reject(new Error('TimeoutError: timeout'));
  }
}

describe.skipIf(natsServerPath === undefined)('nats: an action whose write failed', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let bucket = 0;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectNats(server.url);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  /** A supervisor with node n-1 and its publisher, and a node that acts as the agent does. */
  async function setup(wrap: (kv: KV) => KV = (kv) => kv, requestTimeoutMs = 2000) {
    const kv = await new Kvm(nc).create(`${buckets.state}-retry-${bucket++}`, { history: 1 });
    const store = new FlakyStore();
    const clock = new SimulatedClock();
    const { logger, lines } = captureLogger('warn');
    const sup = createSupervisor({ stateStore: store, clock, logger });
    const publisher = new EnforcementPublisher(nc, wrap(kv), sup, {
      shards: 1,
      holds: () => true,
      requestTimeoutMs,
      log: logger,
    });
    const told: string[] = [];
    const acted: Promise<void>[] = [];
    const node = {
      answers: true,
      subscription: nc.subscribe(subjects.enforce('n-1'), {
        callback: (_, msg) => {
          const message = msg.json<EnforcementMessage>();
          if (message.kind !== 'action') return;
          told.push(message.action.type);
          if (node.answers) msg.respond(JSON.stringify({ ok: true }));
          acted.push(kv.purge(keys.decision('n-1', message.action.id)));
        },
      }),
    };
    await nc.flush();
    sup.register({ id: 'n-1' });
    await sup.durable();
    sup.start();
    const stop = async () => {
      node.subscription.unsubscribe();
      publisher.close();
      await sup.stop();
    };
    return { kv, store, clock, sup, publisher, node, told, acted, lines, stop };
  }

  it('is sent once the next commit has saved it, to a node told exactly once', async () => {
    const { store, clock, sup, publisher, told, lines, stop } = await setup();
    store.failNext = true;
    sup.isolate('n-1', 'retry test');
    await expect(sup.durable()).rejects.toThrow(/timeout/);
    await publisher.settled();
    expect(told).toEqual([]);

    // The storage retry's tick saves the isolation; the tick after it tells the node.
    clock.increment(storageRetry.baseMs);
    await sup.durable();
    await eventually(
      () => told,
      (t) => t.length > 0,
      5000,
    );
    for (let i = 0; i < 3; i++) {
      clock.increment(1000);
      await publisher.settled();
    }
    expect(told).toEqual(['isolate']);
    expect(publisher.counts).toMatchObject({ delivered: 1, failed: 0 });
    expect(lines.some((l) => String(l.msg).startsWith('actions not sent yet'))).toBe(true);
    await stop();
  });

  it('writes the outbox again when that write failed, and tells the node once', async () => {
    let failPut = true;
    const { kv, clock, sup, publisher, told, stop } = await setup(
      (kv) =>
        new Proxy(kv, {
          get(target, name, receiver) {
            if (name !== 'put') return Reflect.get(target, name, receiver);
            return (key: string, value: string) => {
              if (!failPut) return target.put(key, value);
              failPut = false;
              return Promise.reject(new Error('TimeoutError: timeout'));
            };
          },
        }),
    );
    sup.isolate('n-1', 'retry test');
    await sup.durable();
    await publisher.settled();
    expect(told).toEqual([]);
    expect(publisher.counts.failed).toBe(1);

    clock.increment(1000);
    await publisher.settled();
    for (let i = 0; i < 3; i++) {
      clock.increment(1000);
      await publisher.settled();
    }
    expect(told).toEqual(['isolate']);
    expect(publisher.counts.delivered).toBe(1);
    // The node cleared it from its outbox: nothing is left to apply again on its return.
    await eventually(
      async () => {
        const names: string[] = [];
        for await (const key of await kv.keys(keys.nodeDecisions('n-1'))) names.push(key);
        return names;
      },
      (names) => names.length === 0,
    );
    await stop();
  });

  it('asks a node whose answer was lost again only if it has not acted on the action', async () => {
    const { clock, sup, publisher, node, told, acted, stop } = await setup(undefined, 200);
    node.answers = false;
    sup.isolate('n-1', 'retry test');
    await sup.durable();
    await publisher.settled();
    expect(publisher.counts.failed).toBe(1);
    await Promise.all(acted);

    node.answers = true;
    for (let i = 0; i < 3; i++) {
      clock.increment(1000);
      await publisher.settled();
    }
    expect(told).toEqual(['isolate']);
    expect(publisher.counts.delivered).toBe(1);
    await stop();
  });
});
