import { type KV, Kvm } from '@nats-io/kv';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createSupervisor } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import {
  buckets,
  type EnforcementMessage,
  EnforcementPublisher,
  KvStateStore,
  keys,
  type ShardLog,
  subjects,
} from '../../src/nats/index.js';
import { storageRetry } from '../../src/supervisor/storage-health.js';
import { captureLogger } from '../helpers.js';
import { freshChanges } from './durable-fixtures.js';
import { natsPerFile } from './per-test.js';
import { eventually, natsServerPath } from './server.js';

// A durable write that timed out dropped the enforcement batch it carried: the isolation was
// saved by the next commit, but the node was never told (no outbox key, no request). Each
// action is now kept until its node has been told, and told once.

/** The bucket or stream, but each method named in `failing` fails once (as a timed-out write does). */
function flaky<T extends KV | ShardLog>(kv: T, failing: Set<string>): T {
  return new Proxy(kv, {
    get(target, name, receiver) {
      const method = Reflect.get(target, name, receiver);
      if (typeof name !== 'string' || typeof method !== 'function') return method;
      return (...args: unknown[]) => {
        if (!failing.delete(name)) return method.apply(target, args);
        return Promise.reject(new Error('TimeoutError: timeout'));
      };
    },
  });
}

describe.skipIf(natsServerPath === undefined)('nats: an action whose write failed', () => {
  const nats = natsPerFile();
  let bucket = 0;

  /** A supervisor with node n-1 and its publisher, and a node that acts as the agent does. */
  async function setup(requestTimeoutMs = 2000) {
    const kv = await new Kvm(nats.nc).create(`${buckets.state}-retry-${bucket++}`, { history: 1 });
    // KV methods to fail once: the state store's writes, the publisher's (the outbox).
    const failing = { state: new Set<string>(), outbox: new Set<string>() };
    const { logger, lines } = captureLogger('warn');
    // The distributed supervisor's store, holding the one shard.
    const store = new KvStateStore(kv, 1, {
      changes: flaky(await freshChanges(nats.nc), failing.state),
      shards: 1,
      windowMs: 3000,
      log: logger,
      fenceOf: () => 1,
      fenced: () => {},
    });
    await store.claim(0, 1);
    const clock = new SimulatedClock();
    const sup = createSupervisor({ stateStore: store, clock, logger });
    const publisher = new EnforcementPublisher(nats.nc, flaky(kv, failing.outbox), sup, {
      shards: 1,
      holds: () => true,
      requestTimeoutMs,
      log: logger,
    });
    const told: string[] = [];
    const acted: Promise<void>[] = [];
    const node = {
      answers: true,
      subscription: nats.nc.subscribe(subjects.enforce('n-1'), {
        callback: (_, msg) => {
          const message = msg.json<EnforcementMessage>();
          if (message.kind !== 'action') return;
          told.push(message.action.type);
          if (node.answers) msg.respond(JSON.stringify({ ok: true }));
          acted.push(kv.purge(keys.decision('n-1', message.action.id)));
        },
      }),
    };
    await nats.nc.flush();
    sup.register({ id: 'n-1' });
    await sup.durable();
    sup.start();
    // Stopped however the test ends: a node left answering would answer the next test.
    onTestFinished(async () => {
      node.subscription.unsubscribe();
      publisher.close();
      await sup.stop().catch(() => {});
    });
    return { kv, failing, clock, sup, publisher, node, told, acted, lines };
  }

  it('is sent once the next commit has saved it, to a node told exactly once', async () => {
    const { failing, clock, sup, publisher, told, lines } = await setup();
    // The isolation's write to its shard's change stream times out.
    failing.state.add('append');
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
  });

  it('writes the outbox again when that write failed, and tells the node once', async () => {
    const { kv, failing, clock, sup, publisher, told } = await setup();
    failing.outbox.add('put');
    sup.isolate('n-1', 'retry test');
    await sup.durable();
    await publisher.settled();
    expect(told).toEqual([]);
    expect(publisher.counts.failed).toBe(1);

    // Tried again after the next tick; the ticks after it tell the node nothing more.
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
  });

  it('abandons only actions whose commit never became durable', async () => {
    const { failing, clock, sup, publisher, node, told, acted } = await setup(200);
    const ids: string[] = [];
    sup.actions$.subscribe((action) => {
      if (action.status === 'proposed') ids.push(action.id);
    });
    // Durable, but its answer is lost: kept for the next tick.
    node.answers = false;
    sup.isolate('n-1', 'durable');
    await sup.durable();
    await publisher.settled();
    await Promise.all(acted);
    // Not durable: its write timed out.
    failing.state.add('append');
    sup.reinstate('n-1', 'not durable');
    await expect(sup.durable()).rejects.toThrow(/timeout/);
    await publisher.settled();
    expect(told).toEqual(['isolate']);

    // The node's changes since were dropped unwritten (as a lapsed lease's are): the
    // reinstatement is abandoned; the isolation, durable, stands (and the node has acted on it).
    const [, reinstate] = ids;
    expect(publisher.abandon(['n-1', 'n-2'])).toEqual(
      new Map([
        ['n-1', [reinstate]],
        ['n-2', []],
      ]),
    );
    node.answers = true;
    for (let i = 0; i < 3; i++) {
      clock.increment(storageRetry.baseMs);
      await sup.durable().catch(() => {});
      await publisher.settled();
    }
    expect(told).toEqual(['isolate']);
    expect(publisher.counts).toMatchObject({ delivered: 1, abandoned: 1 });
  });

  it('asks a node whose answer was lost again only if it has not acted on the action', async () => {
    const { clock, sup, publisher, node, told, acted } = await setup(200);
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
  });
});
