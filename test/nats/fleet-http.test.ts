import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { NoHolderError, StorageDegradedError } from '../../src/errors.js';
import { createServer } from '../../src/http/index.js';
import { askHolder } from '../../src/nats/ask-holder.js';
import { startDistributedWith } from '../../src/nats/distributed.js';
import { type DistributedSupervisor, shardOf, subjects } from '../../src/nats/index.js';
import { ShardAnswers } from '../../src/nats/shard-answers.js';
import type { Supervisor } from '../../src/supervisor/index.js';
import { SimulatedNodes } from './fleet.js';
import { natsPerTest } from './per-test.js';
import { eventually, natsServerPath } from './server.js';

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const shards = 4;
const timing = { tickMs: 60_000, heartbeatTimeoutMs: 90_000, leaseMs: 2000 };

describe.skipIf(natsServerPath === undefined)(
  'nats: every supervisor answers for every node',
  () => {
    let app: FastifyInstance | undefined;
    // Registered first, so it runs last: the HTTP app closes before the server stops.
    const nats = natsPerTest();
    const { started } = nats;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    async function start(ids: string[], balanced = true): Promise<DistributedSupervisor[]> {
      const clock = new SimulatedClock();
      const sups = await Promise.all(
        ids.map((supervisorId) =>
          startDistributedWith(
            { nats: nats.server.url, shards, logger, supervisorId, ...timing },
            { clock },
          ),
        ),
      );
      started.push(...sups);
      if (balanced) await balance(sups);
      return sups;
    }

    async function balance(sups: readonly DistributedSupervisor[]): Promise<void> {
      await eventually(
        async () => {
          for (const s of sups) await s.scan();
          return sups.map((s) => s.shards().length);
        },
        (counts) => counts.every((n) => n === shards / sups.length),
      );
    }

    /** A node id of a shard the supervisor holds. */
    const nodeOf = (sup: DistributedSupervisor, prefix = 'n') =>
      Array.from({ length: 200 }, (_, i) => `${prefix}-${i}`).find((n) =>
        sup.shards().includes(shardOf(n, shards)),
      ) as string;

    it("forwards GET /v1/nodes/:id for a node another supervisor holds and answers with that one's live view, naming it", async () => {
      const [a, b] = (await start(['a', 'b'])) as [DistributedSupervisor, DistributedSupervisor];
      const onA = nodeOf(a);
      await new SimulatedNodes(nats.nc, [onA], shards).register();
      a.supervisor.isolate(onA, 'maintenance');
      await a.supervisor.durable();
      app = await createServer({ supervisor: b.supervisor, logger });

      const answer = await app.inject({ url: `/v1/nodes/${onA}` });
      expect(answer.statusCode).toBe(200);
      const body = answer.json();
      expect(body.node).toMatchObject({ id: onA, state: 'isolated', reason: 'maintenance' });
      // a's live figures, which only a observes (never in KV).
      expect(body.node.trust).toBe(a.supervisor.node(onA)?.trust);
      expect(body.rules).toEqual(JSON.parse(JSON.stringify(a.supervisor.explain(onA))));
      expect(body.source).toEqual({ supervisor: 'a', shard: shardOf(onA, shards) });
      expect(Object.keys(body).sort()).toEqual(['licence', 'node', 'rules', 'source']);
      expect(b.supervisor.node(onA)).toBeUndefined();

      // The holder's error comes back as it threw it: a node of a's shard a does not know.
      const missing = nodeOf(a, 'missing');
      const unknown = await app.inject({ url: `/v1/nodes/${missing}` });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error).toMatchObject({
        code: 'WYNEOS_ERR_UNKNOWN_NODE',
        message: expect.stringContaining(missing),
      });
    });

    it('carries out isolate, reinstate and deregister made on any supervisor at the holder, answered once durable, with its errors', async () => {
      const [a, b] = (await start(['a', 'b'])) as [DistributedSupervisor, DistributedSupervisor];
      const onA = nodeOf(a);
      await new SimulatedNodes(nats.nc, [onA], shards).register();
      app = await createServer({ supervisor: b.supervisor, logger });

      const isolate = await app.inject({
        method: 'POST',
        url: `/v1/nodes/${onA}/isolate`,
        payload: { reason: 'forwarded' },
      });
      expect(isolate.statusCode).toBe(200);
      expect(isolate.json().node).toMatchObject({
        id: onA,
        state: 'isolated',
        reason: 'forwarded',
      });
      // Answered once a has it, durably: no wait here.
      expect(a.supervisor.node(onA)?.state).toBe('isolated');

      const reinstate = await app.inject({ method: 'POST', url: `/v1/nodes/${onA}/reinstate` });
      expect(reinstate.statusCode).toBe(200);
      expect(a.supervisor.node(onA)?.state).not.toBe('isolated');

      // The holder's checks and errors, passed back with their status: nothing changes.
      const missing = nodeOf(a, 'missing');
      for (const [method, url] of [
        ['POST', `/v1/nodes/${missing}/isolate`],
        ['DELETE', `/v1/nodes/${missing}`],
      ] as const) {
        const refused = await app.inject({ method, url });
        expect(refused.statusCode).toBe(404);
        expect(refused.json().error.code).toBe('WYNEOS_ERR_UNKNOWN_NODE');
      }

      // In code, only the holder carries them out: another says so and changes nothing.
      expect(() => b.supervisor.isolate(onA, 'in code')).toThrow(
        expect.objectContaining({ code: 'WYNEOS_ERR_HELD_ELSEWHERE' }),
      );
      expect(a.supervisor.node(onA)?.state).not.toBe('isolated');

      const deregister = await app.inject({ method: 'DELETE', url: `/v1/nodes/${onA}` });
      expect(deregister.statusCode).toBe(204);
      expect(a.supervisor.node(onA)).toBeUndefined();
      expect((await app.inject({ url: `/v1/nodes/${onA}` })).statusCode).toBe(404);
    });

    it('carries out a forwarded command once however often it is sent', async () => {
      const [a] = (await start(['a', 'b'])) as [DistributedSupervisor, DistributedSupervisor];
      const onA = nodeOf(a);
      await new SimulatedNodes(nats.nc, [onA], shards).register();
      const ask = JSON.stringify({ op: 'isolate', nodeId: onA, commandId: 'c-1', reason: 'once' });
      const send = async () =>
        (await nats.nc.request(subjects.ask(shardOf(onA, shards)), ask, { timeout: 2000 })).json<{
          ok: unknown;
        }>();
      const first = await send();
      expect(first.ok).toMatchObject({ state: 'isolated' });
      a.supervisor.reinstate(onA, 'operator');
      await a.supervisor.durable();
      // The same command again (its first answer late): answered as before, not done again.
      expect(await send()).toEqual(first);
      expect(a.supervisor.node(onA)?.state).not.toBe('isolated');
    });

    it('says nothing was done when no supervisor got the request at all', async () => {
      const asked = await askHolder(nats.nc, 3, { op: 'node', nodeId: 'n-3' }, Date.now() + 300);
      expect(asked).toEqual({ delivered: false });
      expect(new NoHolderError('n-3', 3, 300, false).message).toContain('nothing was done');
    });

    it('answers 503 naming the shard when no holder answers in time, never a state read elsewhere', async () => {
      const [a, b] = (await start(['a', 'b'])) as [DistributedSupervisor, DistributedSupervisor];
      const onA = nodeOf(a);
      await new SimulatedNodes(nats.nc, [onA], shards).register();
      app = await createServer({ supervisor: b.supervisor, logger });
      // a dies: its shards are nobody's until b's next scan after the lease runs out.
      await a.crash();
      const shard = shardOf(onA, shards);
      // Once the server has dropped a's connection, and with it a's subscriptions.
      await eventually(
        () =>
          nats.nc.request(subjects.ask(shard), '{}', { timeout: 500 }).then(
            () => 'answered',
            (error: { isNoResponders?: () => boolean }) =>
              error.isNoResponders?.() ? 'nobody' : 'silent',
          ),
        (outcome) => outcome === 'nobody',
      );
      for (const [method, url] of [
        ['GET', `/v1/nodes/${onA}`],
        ['POST', `/v1/nodes/${onA}/isolate`],
      ] as const) {
        const answer = await app.inject({ method, url });
        expect(answer.statusCode).toBe(503);
        expect(answer.json().error).toMatchObject({
          code: 'WYNEOS_ERR_NO_HOLDER',
          message: expect.stringContaining(`shard ${shard}`),
        });
        // Which of the two it says depends on whether the server still had a's subscription
        // when the request came (it drops a dead connection's a moment later, on a busy
        // machine after the check above): both are true, and neither claims a state.
        expect(answer.json().error.message).toMatch(/nothing was done|did not answer/);
      }
      expect(b.supervisor.node(onA)).toBeUndefined();

      // A supervisor still subscribed for the shard whose lease has lapsed stays silent.
      const stale = {
        node: () => ({ id: onA, state: 'online' }),
        licence: () => undefined,
        explain: () => [],
      } as unknown as Supervisor;
      const lapsed = new ShardAnswers(nats.nc, stale, {
        id: 'a',
        shards,
        holds: () => false,
        log: logger,
      });
      lapsed.hold(shard);
      await nats.nc.flush();
      const silent = await app.inject({ url: `/v1/nodes/${onA}` });
      expect(silent.statusCode).toBe(503);
      expect(silent.json().error.message).toContain('did not answer');
      lapsed.close();

      // A holder's error that says when to try again keeps saying it through the forward.
      const degraded = {
        isolate: () => {
          throw new StorageDegradedError('isolate a node', 'disk full', 3000, false);
        },
      } as unknown as Supervisor;
      const holder = new ShardAnswers(nats.nc, degraded, {
        id: 'c',
        shards,
        holds: () => true,
        log: logger,
      });
      holder.hold(shard);
      await nats.nc.flush();
      const refused = await app.inject({ method: 'POST', url: `/v1/nodes/${onA}/isolate` });
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('WYNEOS_ERR_STORAGE_DEGRADED');
      expect(refused.headers['retry-after']).toBe('3');
      holder.close();
    });

    it("lists the held nodes, or with fleet=true every shard's from its holder, naming the shards that did not answer", async () => {
      const [a, b] = (await start(['a', 'b'])) as [DistributedSupervisor, DistributedSupervisor];
      const nodes = Array.from({ length: 12 }, (_, i) => `f-${i}`);
      await new SimulatedNodes(nats.nc, nodes, shards).register();
      app = await createServer({ supervisor: b.supervisor, logger });
      const held = (await app.inject({ url: '/v1/nodes' })).json();
      expect(held.nodes.length).toBe(b.supervisor.nodes().length);
      expect(held.nodes.length).toBeLessThan(nodes.length);

      const whole = (await app.inject({ url: '/v1/nodes?fleet=true' })).json();
      expect(whole.missingShards).toEqual([]);
      expect(whole.nodes.map((n: { id: string }) => n.id).sort()).toEqual([...nodes].sort());

      // Page by page, each node once.
      const paged: string[] = [];
      let after: string | undefined;
      do {
        const page = (
          await app.inject({ url: `/v1/nodes?fleet=true&limit=5${after ? `&after=${after}` : ''}` })
        ).json();
        expect(page.nodes.length).toBeLessThanOrEqual(5);
        paged.push(...page.nodes.map((n: { id: string }) => n.id));
        after = page.next;
      } while (after !== undefined);
      expect(paged.sort()).toEqual([...nodes].sort());

      const aShards = a.shards();
      await a.crash();
      const partial = (await app.inject({ url: '/v1/nodes?fleet=true' })).json();
      expect(partial.missingShards).toEqual(aShards);
      expect(partial.nodes.length).toBe(b.supervisor.nodes().length);
    });

    it("is answered by a shard's new holder, not by the supervisor that gave it back", async () => {
      const [a] = (await start(['a'])) as [DistributedSupervisor];
      const nodes = Array.from({ length: 40 }, (_, i) => `r-${i}`);
      await new SimulatedNodes(nats.nc, nodes, shards).register();
      const [b] = (await start(['b'], false)) as [DistributedSupervisor];
      await balance([a, b]);
      app = await createServer({ supervisor: a.supervisor, logger });
      const moved = nodes.find((n) => b.shards().includes(shardOf(n, shards))) as string;
      expect(a.supervisor.node(moved)).toBeUndefined();
      const answer = await app.inject({ url: `/v1/nodes/${moved}` });
      expect(answer.statusCode).toBe(200);
      expect(answer.json().source.supervisor).toBe('b');
    });
  },
);
