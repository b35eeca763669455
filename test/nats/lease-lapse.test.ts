import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError } from 'wyneos';
import { type DistributedSupervisor, startDistributedSupervisor } from 'wyneos/nats';
import {
  buckets,
  connectNats,
  KvStateStore,
  keys,
  loadShard,
  ShardLeases,
  ShardLog,
  StreamAuditLog,
  shardOf,
} from '../../src/nats/index.js';
import { durableNode, durableState, freshChanges, storedNode } from './durable-fixtures.js';
import { natsPerFile } from './per-test.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

// A lease that runs out while NATS is away (the restart test's flake): the supervisor lets the
// shard's nodes go, though a decision for one of them was never written (its save failed, or
// never started because the audit flush before it failed). The retry then had no node to save,
// so the decision vanished while `durable()` went on to resolve. The store keeps such changes
// and writes them when it takes the shard back, unless another supervisor held it meanwhile.

const log = pino({ level: 'silent' });

describe.skipIf(natsServerPath === undefined)('nats: a lease that runs out', () => {
  const nats = natsPerFile();
  let kv: KV;
  let changes: ShardLog;
  let bucket = 0;
  const stored = (id: string) => storedNode(kv, changes, 0, id);

  // One shard, a fresh bucket per test, and a fence the test sets (undefined: not renewed).
  function store(fence: { now: number | undefined }, fenced: number[] = []) {
    return new KvStateStore(kv, 1, {
      changes,
      shards: 1,
      windowMs: 3000,
      log,
      fenceOf: () => fence.now,
      fenced: (shard) => fenced.push(shard),
    });
  }
  async function freshBucket() {
    kv = await new Kvm(nats.nc).create(`${buckets.state}-lapse-${bucket++}`, { history: 1 });
    changes = await freshChanges(nats.nc);
  }

  it('writes on taking the shard back what the supervisor decided but never wrote', async () => {
    await freshBucket();
    const fence = { now: 3 as number | undefined };
    const first = store(fence);
    await first.claim(0, 3);
    await first.save(durableState([durableNode('a', 'online'), durableNode('b', 'online')]));

    // The isolation of a and the registration of c were never saved; the lease runs out and
    // the supervisor lets the shard's nodes go with their records as they are.
    fence.now = undefined;
    first.release(0, {
      nodes: [durableNode('a', 'isolated'), durableNode('b', 'online'), durableNode('c', 'online')],
      overrides: { protected: [], pinned: ['a'] },
    });
    expect((await stored('a'))?.node.state).toBe('online');
    // Not durable until written: a save meanwhile (another shard's nodes) says so.
    await expect(first.save(durableState([]))).rejects.toBeInstanceOf(LeaseLostError);
    expect(first.waiting()).toEqual([0]);

    fence.now = 5;
    const { nodes, overrides } = await first.claim(0, 5);
    const states = Object.fromEntries(nodes.map((n) => [n.id, n.state]));
    expect(states).toEqual({ a: 'isolated', b: 'online', c: 'online' });
    expect(overrides.pinned).toEqual(['a']);
    expect(first.shards()).toEqual([0]);
    expect(first.waiting()).toEqual([]);
    expect(await stored('a')).toMatchObject({
      node: { state: 'isolated' },
      pinned: true,
      fence: 5,
    });
    expect((await stored('c'))?.fence).toBe(5);
    // The store knows what it wrote: a save of the same state writes nothing again.
    const last = (await changes.last(0))?.seq;
    await first.save({
      ...durableState([
        durableNode('a', 'isolated'),
        durableNode('b', 'online'),
        durableNode('c', 'online'),
      ]),
      overrides: { protected: [], pinned: ['a'] },
    });
    expect((await changes.last(0))?.seq).toBe(last);
  });

  it('keeps the writes of a save refused for the lease, deletions too, for the takeover', async () => {
    await freshBucket();
    const fence = { now: 3 as number | undefined };
    const fenced: number[] = [];
    const first = store(fence, fenced);
    await first.claim(0, 3);
    await first.save(durableState([durableNode('a', 'online'), durableNode('d', 'online')]));

    fence.now = undefined;
    const refused = first.save(durableState([durableNode('a', 'isolated')]));
    await expect(refused).rejects.toBeInstanceOf(LeaseLostError);
    expect(fenced).toEqual([0]);
    expect(first.shards()).toEqual([]);

    fence.now = 7;
    const { nodes } = await first.claim(0, 7);
    expect(nodes.map((n) => [n.id, n.state])).toEqual([['a', 'isolated']]);
    expect((await stored('a'))?.node.state).toBe('isolated');
    expect(await stored('d')).toBeUndefined();
  });

  it('drops them when another supervisor held the shard meanwhile: its view stands', async () => {
    await freshBucket();
    const fence = { now: 3 as number | undefined };
    const first = store(fence);
    await first.claim(0, 3);
    await first.save(durableState([durableNode('a', 'online')]));
    fence.now = undefined;
    first.release(0, {
      nodes: [durableNode('a', 'isolated'), durableNode('c', 'online')],
      overrides: { protected: [], pinned: [] },
    });

    // Another supervisor takes the shard, decides for a, and creates c itself.
    const other = store({ now: 4 });
    await other.claim(0, 4);
    await other.save(durableState([durableNode('a', 'overloaded'), durableNode('c', 'offline')]));
    other.release(0);
    await expect(first.save(durableState([]))).rejects.toBeInstanceOf(LeaseLostError);

    fence.now = 6;
    const { nodes } = await first.claim(0, 6);
    const states = Object.fromEntries(nodes.map((n) => [n.id, n.state]));
    expect(states).toEqual({ a: 'overloaded', c: 'offline' });
    expect((await stored('a'))?.node.state).toBe('overloaded');
  });
});

describe.skipIf(natsServerPath === undefined)('nats: kept changes of a shard another holds', () => {
  const nats = natsPerFile();

  it('are abandoned once seen held by another supervisor, and saves are durable again', async () => {
    const kv = await new Kvm(nats.nc).create(`${buckets.state}-abandon`, { history: 1 });
    const changes = await freshChanges(nats.nc);
    const fence = { now: 3 as number | undefined };
    const first = new KvStateStore(kv, 1, {
      changes,
      shards: 1,
      windowMs: 3000,
      log,
      fenceOf: () => fence.now,
      fenced: () => {},
    });
    await first.claim(0, 3);
    await first.save(durableState([durableNode('a', 'online')]));
    first.release(0, {
      nodes: [durableNode('a', 'isolated')],
      overrides: { protected: [], pinned: [] },
    });
    await expect(first.save(durableState([]))).rejects.toBeInstanceOf(LeaseLostError);
    first.abandon(0);
    expect(first.waiting()).toEqual([]);
    await first.save(durableState([]));
    expect((await storedNode(kv, changes, 0, 'a'))?.node.state).toBe('online');
  });

  it('are looked for after each lease scan, which names who holds a shard', async () => {
    const leaseKv = await new Kvm(nats.nc).create(`${buckets.leases}-lapse`, {
      history: 1,
      ttl: 5000,
    });
    const scans: string[][] = [];
    const handlers = (owner: string) => ({
      acquired: async () => {},
      releasing: async () => {},
      lost: () => {},
      scanned: async () => {
        scans.push([owner, String(await leases[owner]?.holder(0))]);
      },
    });
    const leases: Record<string, ShardLeases> = {};
    for (const owner of ['x', 'y']) {
      leases[owner] = new ShardLeases(
        leaseKv,
        { owner, shards: 1, ttlMs: 5000, scanMs: 60_000, log },
        handlers(owner),
      );
    }
    await leases.x?.scanNow();
    await leases.y?.scanNow();
    expect(scans).toEqual([
      ['x', 'x'],
      ['y', 'x'],
    ]);
    expect(await leases.y?.holder(1)).toBeUndefined();
  });
});

describe.skipIf(natsServerPath === undefined)(
  'nats: a supervisor whose leases run out while NATS is away',
  () => {
    let server: NatsServer;
    const started: DistributedSupervisor[] = [];
    beforeAll(async () => {
      server = await startNatsServer();
    });
    afterAll(async () => {
      await Promise.all(started.map((s) => s.crash()));
      await server?.stop();
    });

    // The restart test's flake made certain: NATS stays away until every lease has run out.
    // Nobody else wrote the shard: the isolation stands, is sent, and nothing is abandoned.
    it('keeps an isolation whose write failed, and writes and sends it once it takes the shards back', async () => {
      const shards = 2;
      const first = await startDistributedSupervisor({
        nats: server.url,
        supervisorId: 'lapse',
        shards,
        tickMs: 200,
        heartbeatTimeoutMs: 60_000,
        leaseMs: 1000,
        logger: log,
      });
      started.push(first);
      await eventually(
        () => first.shards().length,
        (n) => n === shards,
      );
      first.supervisor.register({ id: 'n-1', labels: {} });
      await first.supervisor.durable();
      const proposed: string[] = [];
      first.supervisor.actions$.subscribe((action) => {
        if (action.status === 'proposed') proposed.push(action.id);
      });

      await server.restart(async () => {
        // Accepted (nothing has failed yet); its audit flush and save cannot land.
        expect(first.supervisor.isolate('n-1', 'lease lapse test').state).toBe('isolated');
        await eventually(
          () => first.shards().length,
          (n) => n === 0,
        );
      });
      await eventually(
        () => first.shards().length,
        (n) => n === shards,
      );
      await eventually(
        () =>
          first.supervisor.durable().then(
            () => true,
            () => false,
          ),
        (ok) => ok,
      );
      expect(first.supervisor.node('n-1')?.state).toBe('isolated');
      const nc = await connectNats(server.url);
      const kv = await new Kvm(nc).open(buckets.state);
      const shard = await loadShard(kv, await ShardLog.open(nc), shardOf('n-1', shards));
      expect(shard.nodes.get('n-1')?.node.state).toBe('isolated');
      // Sent: in the node's outbox (no node listens, so no request is answered).
      const [isolation] = proposed;
      await eventually(
        async () => (await kv.get(keys.decision('n-1', isolation as string)))?.operation,
        (operation) => operation === 'PUT',
      );
      const audit = await StreamAuditLog.open(jetstream(nc), await jetstreamManager(nc), 'reader');
      expect((await audit.read()).filter((r) => r.type === 'abandoned')).toEqual([]);
      await audit.close();
      await nc.close();
    });
  },
);
