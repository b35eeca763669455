import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  let server: NatsServer;
  const started: DistributedSupervisor[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.crash().catch(() => {})));
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
});
