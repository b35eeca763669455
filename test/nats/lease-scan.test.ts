import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'wyneos/testing';
import { buckets, connectNats, ShardLeases } from '../../src/nats/index.js';
import { captureLogger, silentLogger } from '../helpers.js';
import { until } from '../processes.js';
import { type NatsServer, natsServerPath, startNatsServer } from './server.js';

// The lease scan's member listing (`kv.keys('member.>')`) was seen running for 87 s under
// load. Scans run one at a time, so that supervisor never scanned again, and took none of a
// dead supervisor's shards. The listing now has a deadline on the scan's clock.

const handlers = {
  acquired: async () => {},
  releasing: async () => {},
  lost: () => {},
};

/** The lease bucket, but its key listings never end; `listings` counts them, `stopped` their stops. */
function hangingKeys(kv: KV) {
  const calls = { listings: 0, stopped: 0 };
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
      return async () => {
        calls.listings++;
        return never;
      };
    },
  });
  return { kv: wrapped, calls };
}

describe.skipIf(natsServerPath === undefined)(
  'nats: a lease scan whose member listing hangs',
  () => {
    let server: NatsServer;
    let nc: NatsConnection;
    beforeAll(async () => {
      server = await startNatsServer();
      nc = await connectNats(server.url);
    });
    afterAll(async () => {
      await nc?.close();
      await server?.stop();
    });

    it('gives up at its deadline, warns, and later scans still run and take free shards', async () => {
      const leaseKv = await new Kvm(nc).create(`${buckets.leases}-scan`, {
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
  },
);
