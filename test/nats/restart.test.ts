import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DistributedSupervisor, startDistributedSupervisor } from 'wyneos/nats';
import { buckets, loadShard, ShardLog, StreamAuditLog, shardOf } from '../../src/nats/index.js';
import { SimulatedNodes } from './fleet.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const shards = 4;
const options = { shards, tickMs: 200, heartbeatTimeoutMs: 3000, leaseMs: 2000, logger };

describe.skipIf(natsServerPath === undefined)('nats: a server restart', () => {
  let server: NatsServer;
  const started: DistributedSupervisor[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.crash()));
    await server?.stop();
  });

  it('loses nothing that was acknowledged, and a new supervisor rebuilds it all from KV', async () => {
    const first = await startDistributedSupervisor({
      nats: server.url,
      supervisorId: 'first',
      ...options,
    });
    started.push(first);
    await eventually(
      () => first.shards().length,
      (n) => n === shards,
    );
    const nc = await connect({
      servers: server.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    const ids = Array.from({ length: 50 }, (_, i) => `node-${i}`);
    const nodes = new SimulatedNodes(nc, ids, shards);
    await nodes.register();
    const stopBeating = nodes.beatEvery(300);
    const isolated: string[] = [];
    const isolate = async (id: string) => {
      first.supervisor.isolate(id, 'restart test');
      await first.supervisor.durable();
      isolated.push(id); // acknowledged
    };
    try {
      for (const id of ids.slice(0, 5)) await isolate(id);

      await server.restart();
      // After the restart, an operator command is acknowledged again once NATS is back; one
      // made while it was away is retried until it is.
      for (const id of ids.slice(5, 10)) {
        first.supervisor.isolate(id, 'restart test');
        await eventually(
          () =>
            first.supervisor.durable().then(
              () => true,
              () => false,
            ),
          (ok) => ok,
        );
        isolated.push(id);
      }
    } finally {
      stopBeating();
    }

    // Read straight from NATS: every acknowledged registration and isolation is there.
    const kv = await new Kvm(nc).open(buckets.state);
    const changes = await ShardLog.open(nc);
    for (const id of ids) {
      const stored = (await loadShard(kv, changes, shardOf(id, shards))).nodes.get(id);
      expect(stored?.node.id).toBe(id);
      if (isolated.includes(id)) expect(stored?.node.state).toBe('isolated');
    }
    const reader = await StreamAuditLog.open(jetstream(nc), await jetstreamManager(nc), 'reader');
    const records = await reader.read();
    const audited = records
      .filter((r) => r.type === 'operator' || (r.type === 'action' && r.data.type === 'isolate'))
      .map((r) => r.nodeId);
    for (const id of isolated) expect(audited).toContain(id);
    // Each record once, though some were published again after the restart.
    const starts = records.filter((r) => r.type === 'start').length;
    expect(starts).toBe(1);

    await first.crash();
    const second = await startDistributedSupervisor({
      nats: server.url,
      supervisorId: 'second',
      ...options,
    });
    started.push(second);
    await eventually(
      () => second.supervisor.nodes().length,
      (n) => n === ids.length,
    );
    for (const id of isolated) expect(second.supervisor.node(id)?.state).toBe('isolated');
    await nc.close();
  });
});
