import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeToken } from '../../src/http/auth.js';
import { connectNats } from '../../src/nats/connection.js';
import {
  createRelay,
  type DistributedSupervisor,
  natsPassword,
  natsServerConfig,
  natsUrl,
  shardOf,
  startDistributedSupervisor,
  subjects,
  supervisorUser,
} from '../../src/nats/index.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

// A relay's own NATS user (`wyneos nats-config --relay`): it publishes its batches, and the
// server refuses it everything else a node's subjects or another relay's would give.

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const secret = 'relay-accounts-secret-0123456789abcdef';
const shards = 2;
const node = 'site.a:node-1';

describe.skipIf(natsServerPath === undefined)('relay: its own NATS user', () => {
  let server: NatsServer;
  let sup: DistributedSupervisor;
  let relayNc: NatsConnection;
  const violations: string[] = [];
  const as = (user: string) => natsUrl(server.url, user, natsPassword(secret, user));

  beforeAll(async () => {
    server = await startNatsServer({
      'server.conf': readFileSync(
        new URL('../../examples/nats/server.conf', import.meta.url),
        'utf8',
      ),
      'wyneos-accounts.conf': natsServerConfig({ secret, nodes: [node], relays: ['r1'] }),
    });
    sup = await startDistributedSupervisor({
      ...{ nats: as(supervisorUser), shards, supervisorId: 's-1', logger, relaySecret: secret },
      ...{ tickMs: 200, leaseMs: 2000 },
    });
    await eventually(
      () => sup.shards().length,
      (n) => n === shards,
    );
    sup.supervisor.register({ id: node });
    await sup.supervisor.durable();
    relayNc = await connectNats(as('r1'), { inboxPrefix: subjects.inbox('r1') });
    void (async () => {
      for await (const status of relayNc.status()) {
        if (status.type === 'error') violations.push(String(status.error));
      }
    })();
  });
  afterAll(async () => {
    await relayNc?.close();
    await sup?.stop();
    await server?.stop();
  });

  it('publishes its batches, and may not publish as a node, as another relay or to a shard holder', async () => {
    const relay = createRelay({ connection: relayNc, relayId: 'r1', shards, intervalMs: 0 });
    relay.offer(nodeToken(secret, node), { nodeId: node, seq: 1, load: 0.3 });
    await relay.flush();
    await eventually(
      () => sup.supervisor.node(node)?.seq,
      (seq) => seq === 1,
    );
    const shard = shardOf(node, shards);
    relayNc.publish(
      subjects.heartbeat(shard, node),
      JSON.stringify({ nodeId: node, seq: 2, load: 0.9 }),
    );
    const items = [
      { token: nodeToken(secret, node), heartbeat: { nodeId: node, seq: 3, load: 0.9 } },
    ];
    relayNc.publish(subjects.relay(shard, 'r2'), JSON.stringify({ items }));
    // Nor ask a shard's holder about a node, as supervisors ask each other.
    relayNc.publish(subjects.ask(shard), JSON.stringify({ op: 'node', nodeId: node }));
    await eventually(
      () => violations.join('\n'),
      (all) =>
        all.includes('wyneos.hb.') && all.includes('wyneos.relay.') && all.includes('wyneos.ask.'),
    );
    await relayNc.flush();
    expect(sup.supervisor.node(node)?.seq).toBe(1);
    await relay.stop();
  });
});
