import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allowedLabelValues } from 'wyneos';
import {
  type DistributedSupervisor,
  shardOf,
  startDistributedSupervisor,
} from '../../src/nats/index.js';
import { SimulatedNodes } from './fleet.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const timing = { tickMs: 200, heartbeatTimeoutMs: 3000, leaseMs: 2000 };

describe.skipIf(natsServerPath === undefined)('nats: several supervisors, one fleet', () => {
  // A server of its own for each test: a fleet's shard count is fixed on its server.
  let server: NatsServer;
  const started: DistributedSupervisor[] = [];
  beforeEach(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.crash().catch(() => {})));
    await server?.stop();
  });

  const start = async (supervisorId: string, shards: number) => {
    const sup = await startDistributedSupervisor({
      nats: server.url,
      shards,
      supervisorId,
      logger,
      ...timing,
    });
    started.push(sup);
    return sup;
  };

  it('hands each heartbeat to the supervisor holding its shard, and to no other', async () => {
    const a = await start('a', 4);
    const b = await start('b', 4);
    await eventually(
      () => [a.shards().length, b.shards().length],
      ([x, y]) => x === 2 && y === 2,
    );
    const nc = await connect({ servers: server.url });
    const ids = Array.from({ length: 20 }, (_, i) => `hb-${i}`);
    const nodes = new SimulatedNodes(nc, ids, 4);
    await nodes.register();
    nodes.beat(0.42);
    await eventually(
      () => a.heartbeats.accepted + b.heartbeats.accepted,
      (n) => n === ids.length,
    );
    for (const id of ids) {
      const [holder, other] = a.shards().includes(shardOf(id, 4)) ? [a, b] : [b, a];
      expect(holder.supervisor.node(id)?.load).toBe(0.42);
      expect(other.supervisor.node(id)).toBeUndefined();
    }
    await nc.close();
    await Promise.all([a.stop(), b.stop()]);
  });

  it("shares 1,000 nodes among three supervisors, and moves a dead one's shards within the lease time plus a tick, losing no isolation and applying none twice", async () => {
    const shards = 16;
    const policy = {
      version: 'tiers-1',
      rules: [allowedLabelValues('tier', ['good'], { enforcement: 'isolate' })],
    };
    const options = { policy, escalation: { baseMs: 600_000 } };
    const sups = await Promise.all(
      ['one', 'two', 'three'].map(async (supervisorId) => {
        const sup = await startDistributedSupervisor({
          nats: server.url,
          shards,
          supervisorId,
          logger,
          ...timing,
          ...options,
        });
        started.push(sup);
        return sup;
      }),
    );
    const isolations = new Map<string, number>();
    for (const sup of sups) {
      sup.supervisor.actions$.subscribe((action) => {
        if (action.type === 'isolate' && action.status === 'proposed') {
          isolations.set(action.nodeId, (isolations.get(action.nodeId) ?? 0) + 1);
        }
      });
    }
    await eventually(
      () => sups.map((s) => s.shards().length),
      (counts) => counts.every((n) => n >= 4) && counts.reduce((a, b) => a + b) === shards,
    );
    const nc = await connect({ servers: server.url });
    const ids = Array.from({ length: 1000 }, (_, i) => (i % 40 === 0 ? `bad-${i}` : `good-${i}`));
    const bad = ids.filter((id) => id.startsWith('bad'));
    const nodes = new SimulatedNodes(nc, ids, shards);
    await nodes.register();
    const stopBeating = nodes.beatEvery(500);
    try {
      const holderOf = (id: string) => sups.find((s) => s.supervisor.node(id) !== undefined);
      // Every node with one supervisor (once any shard moved by rebalancing is taken over).
      await eventually(
        () => sups.reduce((n, s) => n + s.supervisor.nodes().length, 0),
        (n) => n === ids.length,
      );
      // Every bad node isolated by its holder, durably, before the crash.
      await eventually(
        () => bad.filter((id) => holderOf(id)?.supervisor.node(id)?.state === 'isolated').length,
        (n) => n === bad.length,
      );
      await Promise.all(sups.map((s) => s.supervisor.durable()));
      expect([...isolations.values()].every((n) => n === 1)).toBe(true);

      const [victim, ...survivors] = [...sups].sort(
        (a, b) => b.shards().length - a.shards().length,
      ) as [DistributedSupervisor, ...DistributedSupervisor[]];
      const orphaned = victim.shards();
      const crashedAt = Date.now();
      await victim.crash();
      await eventually(
        () => survivors.reduce((n, s) => n + s.shards().length, 0),
        (n) => n === shards,
      );
      const handoverMs = Date.now() - crashedAt;
      // The bound: the lease runs out, then the next scan (every tick) takes the shard. Taking
      // over (reading and fencing each node key) and a busy machine get one second more.
      expect(handoverMs).toBeLessThan(timing.leaseMs + timing.tickMs + 1000);
      expect(orphaned.length).toBeGreaterThan(0);

      const total = () => survivors.reduce((n, s) => n + s.supervisor.nodes().length, 0);
      await eventually(total, (n) => n === ids.length);
      for (const id of bad) expect(holderOf(id)?.supervisor.node(id)?.state).toBe('isolated');
      // A few ticks on: the survivors' rules see the bad nodes isolated already, and the grace
      // of one heartbeat timeout kept every good node online through the handover.
      const ticks = survivors.map(() => 0);
      survivors.forEach((s, i) => {
        s.supervisor.ticks$.subscribe(() => {
          ticks[i] = (ticks[i] ?? 0) + 1;
        });
      });
      await eventually(
        () => ticks,
        (t) => t.every((n) => n >= 5),
      );
      expect(bad.every((id) => isolations.get(id) === 1)).toBe(true);
      expect(isolations.size).toBe(bad.length);
      const offline = survivors.flatMap((s) =>
        s.supervisor.nodes().filter((n) => n.state === 'offline'),
      );
      expect(offline).toEqual([]);
    } finally {
      stopBeating();
      await nc.close();
    }
    await Promise.all(sups.map((s) => s.stop()));
  });

  it('caps isolations across the whole fleet, counting the isolated nodes other supervisors hold', async () => {
    const shards = 4;
    const policy = {
      version: 'tiers-1',
      rules: [allowedLabelValues('tier', ['good'], { enforcement: 'isolate' })],
    };
    const options = {
      policy,
      escalation: { baseMs: 600_000 },
      safety: { maxIsolatedFraction: 0.25 },
    };
    const a = await startDistributedSupervisor({
      nats: server.url,
      shards,
      supervisorId: 'a',
      logger,
      ...timing,
      ...options,
    });
    const b = await startDistributedSupervisor({
      nats: server.url,
      shards,
      supervisorId: 'b',
      logger,
      ...timing,
      ...options,
    });
    started.push(a, b);
    await eventually(
      () => [a.shards().length, b.shards().length],
      ([x, y]) => x === 2 && y === 2,
    );
    const held = (sup: DistributedSupervisor, prefix: string, count: number) =>
      Array.from({ length: 400 }, (_, i) => `${prefix}-${i}`)
        .filter((id) => sup.shards().includes(shardOf(id, shards)))
        .slice(0, count);
    const nc = await connect({ servers: server.url });
    // 40 nodes: 20 on a, all good, 10 of them isolated by the operator; 20 on b, 10 bad.
    const onA = new SimulatedNodes(nc, held(a, 'good', 20), shards);
    const onB = new SimulatedNodes(nc, [...held(b, 'good', 10), ...held(b, 'bad', 10)], shards);
    await onA.register();
    for (const id of onA.ids.slice(0, 10)) a.supervisor.isolate(id, 'maintenance');
    await a.supervisor.durable();
    await eventually(
      () => b.peerCounts(),
      (c) => c.isolated === 10 && c.nodeCount === 20,
    );
    const heldBack: string[] = [];
    b.supervisor.actions$.subscribe((action) => {
      if (action.status === 'held' && action.heldBy === 'maxIsolatedFraction')
        heldBack.push(action.nodeId);
    });
    await onB.register();
    const stopA = onA.beatEvery(500);
    const stopB = onB.beatEvery(500);
    try {
      // Alone, b would see 20 nodes and none isolated, and isolate 5 (a quarter of its own).
      // Counting a's, the fleet of 40 already has its 10: b holds every isolation back.
      await eventually(
        () => new Set(heldBack).size,
        (n) => n === 10,
      );
      expect(b.supervisor.nodes().filter((n) => n.state === 'isolated')).toEqual([]);
    } finally {
      stopA();
      stopB();
      await nc.close();
    }
  });
});
