import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createServer } from '../../src/http/index.js';
import { startDistributedSupervisor } from '../../src/nats/distributed.js';
import { type DistributedSupervisor, shardOf } from '../../src/nats/index.js';
import { SimulatedNodes } from './fleet.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const shards = 4;
const timing = { tickMs: 60_000, heartbeatTimeoutMs: 90_000, leaseMs: 2000 };

describe.skipIf(natsServerPath === undefined)(
  'nats: every supervisor answers for every node',
  () => {
    let server: NatsServer;
    let nc: NatsConnection;
    let app: FastifyInstance | undefined;
    const started: DistributedSupervisor[] = [];
    beforeEach(async () => {
      server = await startNatsServer();
      nc = await connect({ servers: server.url });
    });
    afterEach(async () => {
      await app?.close();
      await nc?.close();
      await Promise.all(started.splice(0).map((s) => s.crash().catch(() => {})));
      await server?.stop();
    });

    it("answers GET /v1/nodes/:id for a node another supervisor holds with that one's record, saying whose and how old", async () => {
      const clock = new SimulatedClock();
      const sups = await Promise.all(
        ['a', 'b'].map((supervisorId) =>
          startDistributedSupervisor(
            { nats: server.url, shards, logger, supervisorId, ...timing },
            { clock },
          ),
        ),
      );
      started.push(...sups);
      const [a, b] = sups as [DistributedSupervisor, DistributedSupervisor];
      await eventually(
        async () => {
          await Promise.all(sups.map((s) => s.scan()));
          return sups.map((s) => s.shards().length);
        },
        (counts) => counts.every((n) => n === 2),
      );
      const pick = (sup: DistributedSupervisor) =>
        Array.from({ length: 100 }, (_, i) => `n-${i}`).find((n) =>
          sup.shards().includes(shardOf(n, shards)),
        ) as string;
      const onA = pick(a);
      await new SimulatedNodes(nc, [onA], shards).register();
      a.supervisor.isolate(onA, 'maintenance');
      await a.supervisor.durable();
      app = await createServer({ supervisor: b.supervisor, logger });

      const answer = await app.inject({ url: `/v1/nodes/${onA}` });
      expect(answer.statusCode).toBe(200);
      const body = answer.json();
      expect(body.node).toMatchObject({
        id: onA,
        state: 'isolated',
        reason: 'maintenance',
        protected: false,
      });
      expect(body.source).toMatchObject({ kind: 'shared-state', holder: 'a' });
      expect(body.source.ageMs).toBeGreaterThanOrEqual(0);
      // Nothing b did not see: no load, trust, rules or transitions of its own making.
      expect(Object.keys(body).sort()).toEqual(['node', 'source']);
      expect(b.supervisor.node(onA)).toBeUndefined();

      // An operator command for it through b's API reaches a, and b's answer follows a's record.
      const protect = await app.inject({ method: 'POST', url: `/v1/nodes/${onA}/protect` });
      expect(protect.statusCode).toBe(200);
      await eventually(
        () => a.supervisor.overrides().protected,
        (ids) => ids.includes(onA),
      );
      await a.supervisor.durable();
      const again = await app.inject({ url: `/v1/nodes/${onA}` });
      expect(again.json().node.protected).toBe(true);

      // A revocation made through b's API (as `wyneos licence revoke` makes it) reaches a.
      const revoke = await app.inject({
        method: 'POST',
        url: '/v1/licences/licence-3/revoke',
        payload: { reason: 'leaked' },
      });
      expect(revoke.statusCode).toBe(200);
      await eventually(
        () => a.supervisor.revocations().map((r) => r.licenceId),
        (ids) => ids.includes('licence-3'),
      );

      // Commands only the holder carries out are refused here, saying so, and change nothing.
      for (const [method, url] of [
        ['POST', `/v1/nodes/${onA}/reinstate`],
        ['DELETE', `/v1/nodes/${onA}`],
      ] as const) {
        const refused = await app.inject({ method, url });
        expect(refused.statusCode).toBe(409);
        expect(refused.json().error.code).toBe('WYNEOS_ERR_HELD_ELSEWHERE');
      }
      expect(a.supervisor.node(onA)?.state).toBe('isolated');

      const missing = pick(a).replace(/\d+$/, (n) => `${n}x`);
      const unknown = await app.inject({ url: `/v1/nodes/${missing}` });
      expect(unknown.statusCode).toBe(404);
    });
  },
);
