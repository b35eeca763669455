import { type KV, Kvm } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { StorageError } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import {
  buckets,
  KvStateStore,
  keys,
  ShardLeases,
  ShardLog,
  type StoredNode,
} from '../../src/nats/index.js';
import { captureLogger, silentLogger } from '../helpers.js';
import { until } from '../processes.js';
import { natsPerFile } from './per-test.js';
import { natsServerPath } from './server.js';

// The lease scan's member listing (`kv.keys('member.>')`) was seen running for 87 s under
// load. Scans run one at a time, so that supervisor never scanned again, and took none of a
// dead supervisor's shards. The listing now has a deadline on the scan's clock, and so has the
// listing of a shard's nodes in a takeover (which the scan waits for too).

const handlers = {
  acquired: async () => {},
  releasing: async () => {},
  lost: () => {},
};

/** A bucket whose key listings never end while `hang`; `listings` counts them, `stopped` their stops. */
function hangingKeys(kv: KV) {
  const calls = { hang: true, listings: 0, stopped: 0 };
  const never: QueuedIterator<string> = {
    [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }),
    stop: () => {
      calls.stopped++;
    },
    getProcessed: () => 0,
    getPending: () => 0,
    getReceived: () => 0,
  } as unknown as QueuedIterator<string>;
  const wrapped = new Proxy(kv, {
    get(target, name, receiver) {
      if (name !== 'keys') return Reflect.get(target, name, receiver);
      return async (filter: string) => {
        calls.listings++;
        return calls.hang ? never : target.keys(filter);
      };
    },
  });
  return { kv: wrapped, calls };
}

describe.skipIf(natsServerPath === undefined)('nats: a lease scan whose key listing hangs', () => {
  const nats = natsPerFile();

  it('gives up at its deadline, warns, and later scans still run and take free shards', async () => {
    const leaseKv = await new Kvm(nats.nc).create(`${buckets.leases}-scan`, {
      history: 1,
      ttl: 60_000,
    });
    const options = { shards: 4, ttlMs: 60_000, scanMs: 60_000 };
    const x = new ShardLeases(leaseKv, { ...options, owner: 'x', log: silentLogger }, handlers);
    await x.scanNow();
    expect(x.shards()).toEqual([0, 1, 2, 3]);

    const clock = new SimulatedClock();
    const { logger, lines } = captureLogger('warn');
    const { kv, calls } = hangingKeys(leaseKv);
    const y = new ShardLeases(
      kv,
      { ...options, owner: 'y', listMs: 2000, log: logger, clock },
      handlers,
    );
    // One scan, its listing let run until the deadline on y's clock.
    const scan = async () => {
      const listings = calls.listings;
      let done = false;
      const scanning = y.scanNow().then(() => {
        done = true;
      });
      await until(
        () => calls.listings,
        (n) => n > listings,
        10_000,
        'the member listing',
      );
      clock.increment(2000);
      await until(
        () => done,
        (d) => d,
        10_000,
        'the scan to end',
      );
      await scanning;
    };

    await scan();
    expect(y.shards()).toEqual([]); // all held by x
    expect(calls.stopped).toBe(1);
    expect(
      lines.filter(
        (l) => l.msg === 'member listing timed out; scanning with the members listed so far',
      ),
    ).toHaveLength(1);

    // x stops (as at a takeover, but without waiting for its leases to run out): y's next
    // scan takes every shard, its listing hanging as before.
    await x.stop();
    await scan();
    expect(y.shards()).toEqual([0, 1, 2, 3]);
    expect(calls.stopped).toBe(2);
    await y.stop();
  });

  it('gives a takeover up when its shard listing hangs, and the next one takes the shard', async () => {
    const kv = await new Kvm(nats.nc).create(`${buckets.state}-scan`, { history: 1 });
    const stored: StoredNode = {
      node: {
        id: 'a',
        labels: {},
        registeredAt: 1,
        state: 'isolated',
        since: 1,
        reason: 'test',
        isolations: 1,
        reinstateAt: null,
        probationUntil: null,
        escalation: 0,
        seq: 1,
      },
      protected: false,
      pinned: false,
      fence: 3,
    };
    await kv.put(keys.node(0, 'a'), JSON.stringify(stored));
    const clock = new SimulatedClock();
    const hanging = hangingKeys(kv);
    const changes = await ShardLog.open(nats.nc);
    const store = new KvStateStore(hanging.kv, 1, {
      changes,
      shards: 1,
      windowMs: 3000,
      listMs: 2000,
      clock,
      log: silentLogger,
      fenceOf: () => 5,
      fenced: () => {},
    });
    let outcome: unknown;
    void store.claim(0, 5).then(
      () => {
        outcome = 'taken';
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await until(
      () => hanging.calls.listings,
      (n) => n > 0,
      10_000,
      'the shard listing',
    );
    clock.increment(2000);
    await until(
      () => outcome,
      (o) => o !== undefined,
      10_000,
      'the takeover to end',
    );
    expect(outcome).toBeInstanceOf(StorageError);
    expect(hanging.calls.stopped).toBe(1);
    // Nothing was claimed from a part of the shard (an older release's per-node keys).
    expect(await changes.last(0)).toBeUndefined();

    hanging.calls.hang = false;
    const { nodes } = await store.claim(0, 5);
    expect(nodes.map((n) => [n.id, n.state])).toEqual([['a', 'isolated']]);
    expect((await changes.last(0))?.nodes.a).toMatchObject({ fence: 5, node: { id: 'a' } });
  });
});
