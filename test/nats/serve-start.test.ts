import { createServer, type Server } from 'node:net';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServe } from '../../src/cli/serve.js';
import { buckets, connectNats, ShardLeases } from '../../src/nats/index.js';
import { silentLogger } from '../helpers.js';
import { type NatsServer, natsServerPath, startNatsServer } from './server.js';

// `serve --nats` took its shard leases before binding its HTTP port: a port already taken
// then left those shards unheld for a whole lease. A failed start now hands them back.

describe.skipIf(natsServerPath === undefined)('nats: serve --nats on a port already taken', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let taken: Server;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectNats(server.url);
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => taken?.close(resolve));
    await nc?.close();
    await server?.stop();
  });

  it('fails, and its shards are taken by another supervisor at once, not after the lease', async () => {
    const { port } = taken.address() as { port: number };
    const lease = 60_000;
    await expect(
      runServe(
        { nats: server.url, port, shards: 4, lease, tick: 200, supervisorId: 'failed' },
        silentLogger,
      ),
    ).rejects.toThrow(/EADDRINUSE/);

    const leaseKv = await new Kvm(nc).open(buckets.leases);
    const other = new ShardLeases(
      leaseKv,
      { owner: 'other', shards: 4, ttlMs: lease, scanMs: lease, log: silentLogger },
      { acquired: async () => {}, releasing: async () => {}, lost: () => {} },
    );
    await other.scanNow();
    expect(other.shards()).toEqual([0, 1, 2, 3]);
    await other.stop();
  });
});
