import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LeaseLostError } from 'wyneos';
import {
  buckets,
  connectNats,
  KvStateStore,
  loadShard,
  requireServerFeature,
  ShardLog,
  shardOf,
} from '../../src/nats/index.js';
import { durableNode, durableState } from './durable-fixtures.js';
import { natsPerFile } from './per-test.js';
import { natsServerPath } from './server.js';

const log = pino({ level: 'silent' });

describe.skipIf(natsServerPath === undefined)('nats: fencing and server facts', () => {
  const nats = natsPerFile();

  it("refuses a stale lease holder's write once a new holder has taken the shard over", async () => {
    const kv = await new Kvm(nats.nc).create(buckets.state, { history: 1 });
    const changes = await ShardLog.open(nats.nc);
    const shard = shardOf('n-1', 1);
    const options = { shards: 1, windowMs: 3000, log, changes };
    // The old holder still believes in its lease (a long pause hid the expiry from it).
    const fencedOld: number[] = [];
    const old = new KvStateStore(kv, 1, {
      ...options,
      fenceOf: () => 7,
      fenced: (s) => fencedOld.push(s),
    });
    await old.claim(shard, 7);
    await old.save(durableState([durableNode('n-1', 'online')]));

    const next = new KvStateStore(kv, 2, { ...options, fenceOf: () => 9, fenced: () => {} });
    const { nodes } = await next.claim(shard, 9);
    expect(nodes.map((n) => n.id)).toEqual(['n-1']);

    await expect(old.save(durableState([durableNode('n-1', 'isolated')]))).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    expect(fencedOld).toEqual([shard]);
    // The claim is the last entry: the refused write is not in the stream.
    const last = await changes.last(shard);
    expect(last).toMatchObject({ fence: 9, claim: true });
    expect((await loadShard(kv, changes, shard)).nodes.get('n-1')?.node.state).toBe('online');
    // The new holder writes on.
    await next.save(durableState([durableNode('n-1', 'isolated')]));
    expect((await loadShard(kv, changes, shard)).nodes.get('n-1')?.node.state).toBe('isolated');
  });

  it('refuses to write a shard whose lease it cannot vouch for, before touching NATS', async () => {
    const kv = await new Kvm(nats.nc).create(buckets.state, { history: 1 });
    let fence: number | undefined = 3;
    const changes = await ShardLog.open(nats.nc);
    const store = new KvStateStore(kv, 1, {
      changes,
      shards: 1,
      windowMs: 3000,
      log,
      fenceOf: () => fence,
      fenced: () => {},
    });
    await store.claim(0, 3);
    fence = undefined; // not renewed within the TTL
    const error = await store
      .save(durableState([durableNode('quiet', 'online')]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as LeaseLostError).code).toBe('WYNEOS_ERR_LEASE_LOST');
    expect((await loadShard(kv, changes, 0)).nodes.has('quiet')).toBe(false);
  });

  it("checks the server's version on connect and refuses what 2.9 lacks with a clear error", async () => {
    expect(nats.nc.info?.version).toMatch(/^2\./);
    const old = { info: { version: '2.9.10', jetstream: true } } as never;
    expect(() => requireServerFeature(old, 'multiKeyWatch')).toThrow(/2\.10\.0 or later/);
    expect(() => requireServerFeature(old, 'perKeyTtl')).toThrow(/per-key TTL/);
    const { checkServer } = await import('../../src/nats/index.js');
    expect(() => checkServer({ info: { version: '2.8.4', jetstream: true } } as never)).toThrow(
      expect.objectContaining({ code: 'WYNEOS_ERR_NATS_UNSUPPORTED' }),
    );
    expect(() => checkServer({ info: { version: '2.9.10', jetstream: false } } as never)).toThrow(
      /-js/,
    );
    await expect(connectNats('http://127.0.0.1:1')).rejects.toMatchObject({
      code: 'WYNEOS_ERR_INVALID_ARGUMENT',
    });
    await expect(connectNats('nats://127.0.0.1:1', { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'WYNEOS_ERR_NATS',
    });
  });
});
