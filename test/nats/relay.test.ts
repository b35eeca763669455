import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayFullError } from 'wyneos';
import { nodeToken } from '../../src/http/auth.js';
import {
  createRelay,
  type DistributedSupervisor,
  shardOf,
  startDistributedSupervisor,
  subjects,
} from '../../src/nats/index.js';
import { createRelayHttp } from '../../src/nats/relay-http.js';
import { killAll, wyneos } from '../processes.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

// A relay gathers many nodes' heartbeats and publishes each shard's in batches; the shard's
// supervisor takes each item through its heartbeat path, proved by the item's node token.

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const secret = 'relay-test-secret-0123456789abcdef';
const shards = 2;
const ids = Array.from({ length: 20 }, (_, i) => `n${i}`);
const token = (id: string) => nodeToken(secret, id);
const inShard = (shard: number) => ids.filter((id) => shardOf(id, shards) === shard);

type Reply = { results: Array<{ nodeId?: string; boot?: number; error?: { code: string } }> };

describe.skipIf(natsServerPath === undefined)('relay', () => {
  let server: NatsServer;
  let distributed: DistributedSupervisor;
  let nc: Awaited<ReturnType<typeof connect>>;
  let seq = 0;

  beforeAll(async () => {
    server = await startNatsServer();
    distributed = await startDistributedSupervisor({
      nats: server.url,
      shards,
      supervisorId: 'relayed',
      logger,
      tickMs: 200,
      leaseMs: 2000,
      relaySecret: secret,
    });
    await eventually(
      () => distributed.shards().length,
      (n) => n === shards,
    );
    nc = await connect({ servers: server.url });
    for (const id of ids) {
      const reply = await nc.request(subjects.register(shardOf(id, shards), id), `{"id":"${id}"}`);
      expect(reply.json()).toMatchObject({ node: { id } });
    }
  });
  afterAll(async () => {
    killAll();
    await nc?.close();
    await distributed?.stop();
    await server?.stop();
  });

  const sup = () => distributed.supervisor;
  const seqs = () => ids.map((id) => sup().node(id)?.seq);
  async function batch(shard: number, items: unknown[]): Promise<Reply> {
    const reply = await nc.request(subjects.relay(shard, 'r1'), JSON.stringify({ items }));
    return reply.json<Reply>();
  }
  const codes = (reply: Reply) => reply.results.map((r) => r.error?.code ?? 'ok');

  it('batches heartbeats from several nodes into few messages, and the supervisor accepts each', async () => {
    const relay = createRelay({ connection: nc, relayId: 'r1', shards, batchSize: 8 });
    const before = { ...distributed.heartbeats };
    seq++;
    for (const id of ids) relay.offer(token(id), { nodeId: id, seq, load: 0.25 });
    await relay.flush();
    await eventually(
      () => distributed.heartbeats.accepted - before.accepted,
      (n) => n >= ids.length,
    );
    expect(distributed.heartbeats.accepted - before.accepted).toBe(ids.length);
    expect(distributed.heartbeats.refused).toBe(before.refused);
    expect(seqs()).toEqual(ids.map(() => seq));
    expect(ids.map((id) => sup().node(id)?.load)).toEqual(ids.map(() => 0.25));
    // Per shard, its heartbeats in batches of 8: few messages for twenty heartbeats.
    const messages = [0, 1].reduce((n, s) => n + Math.ceil(inShard(s).length / 8), 0);
    expect(relay.counts).toEqual({ offered: ids.length, published: ids.length, messages });
    expect(distributed.heartbeats.batches - before.batches).toBe(messages);
    await relay.stop();
  });

  it('refuses an item for a node the relay may not speak for, counts it as impersonation, and changes nothing', async () => {
    const [a, b] = inShard(0) as [string, string];
    const trust = sup().node(a)?.trust;
    const before = { ...distributed.heartbeats };
    const atSeq = seqs();
    const reply = await batch(0, [
      // A token the relay made up: not under the supervisors' secret.
      {
        token: nodeToken('another-secret-0123456789abcdef', a),
        heartbeat: { nodeId: a, seq: 99, load: 0.9 },
      },
      // No token's MAC at all, just the node's name.
      { token: `${a}.forged`, heartbeat: { nodeId: a, seq: 99, load: 0.9 } },
      // b's own token, speaking for a.
      { token: token(b), heartbeat: { nodeId: a, seq: 99, load: 0.9 } },
    ]);
    expect(codes(reply)).toEqual([
      'WYNEOS_ERR_UNAUTHENTICATED',
      'WYNEOS_ERR_UNAUTHENTICATED',
      'WYNEOS_ERR_FORBIDDEN',
    ]);
    expect(distributed.heartbeats.impersonation - before.impersonation).toBe(3);
    expect(distributed.heartbeats.accepted).toBe(before.accepted);
    expect(seqs()).toEqual(atSeq);
    expect(sup().node(a)?.trust).toBe(trust);
  });

  it('refuses an item of another shard: a relay publishes each node to its own shard', async () => {
    const [other] = inShard(1) as [string];
    const atSeq = seqs();
    const reply = await batch(0, [
      { token: token(other), heartbeat: { nodeId: other, seq: 99, load: 0.1 } },
    ]);
    expect(codes(reply)).toEqual(['WYNEOS_ERR_INVALID_HEARTBEAT']);
    expect(seqs()).toEqual(atSeq);
  });

  it('refuses a malformed item and only that one', async () => {
    const [a, b, c, d] = inShard(0) as [string, string, string, string];
    seq++;
    const reply = await batch(0, [
      { token: token(a), heartbeat: { nodeId: a, seq, load: 0.5 } },
      { token: 5, heartbeat: { nodeId: b, seq, load: 0.5 } },
      { token: token(b), heartbeat: { nodeId: b, seq, load: 7 } },
      null,
      { token: token(c), heartbeat: 'not a heartbeat' },
      { token: token(d), heartbeat: { nodeId: d, seq, load: 0.5 } },
    ]);
    expect(codes(reply)).toEqual([
      'ok',
      'WYNEOS_ERR_INVALID_HEARTBEAT',
      'WYNEOS_ERR_INVALID_HEARTBEAT',
      'WYNEOS_ERR_INVALID_HEARTBEAT',
      'WYNEOS_ERR_INVALID_HEARTBEAT',
      'ok',
    ]);
    expect([a, b, c, d].map((id) => sup().node(id)?.seq)).toEqual([seq, seq - 1, seq - 1, seq]);
  });

  it('refuses a message that is no batch, whole', async () => {
    const reply = await nc.request(subjects.relay(0, 'r1'), 'not json');
    expect(codes(reply.json<Reply>())).toEqual(['WYNEOS_ERR_INVALID_HEARTBEAT']);
  });

  it('holds at most maxQueued heartbeats a shard, refuses the next with a code, and drops none', async () => {
    const relay = createRelay({
      connection: nc,
      relayId: 'r2',
      shards,
      batchSize: 100,
      maxQueued: 100,
      intervalMs: 0,
    });
    const [a, b] = inShard(0) as [string, string];
    const [c] = inShard(1) as [string];
    const before = distributed.heartbeats.accepted;
    const bSeq = sup().node(b)?.seq;
    seq++;
    // A hundred of a's heartbeats fill shard 0's queue.
    for (let i = 0; i < 100; i++) relay.offer(token(a), { nodeId: a, seq: seq + i, load: 0.1 });
    let refusal: unknown;
    try {
      relay.offer(token(b), { nodeId: b, seq, load: 0.1 });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(RelayFullError);
    expect(refusal).toMatchObject({ code: 'WYNEOS_ERR_RELAY_FULL', shard: 0, maxQueued: 100 });
    // Another shard's queue is its own.
    relay.offer(token(c), { nodeId: c, seq, load: 0.1 });
    expect(relay.queued()).toBe(101);
    // Stopping publishes what is queued.
    await relay.stop();
    expect(relay.queued()).toBe(0);
    await eventually(
      () => distributed.heartbeats.accepted - before,
      (n) => n >= 101,
    );
    expect(sup().node(a)?.seq).toBe(seq + 99);
    expect(sup().node(b)?.seq).toBe(bSeq);
    expect(sup().node(c)?.seq).toBe(seq);
  });

  it('takes heartbeats over HTTP as POST /v1/heartbeats does, and says when it is full', async () => {
    const relay = createRelay({
      connection: nc,
      relayId: 'r3',
      shards,
      batchSize: 4,
      maxQueued: 4,
      intervalMs: 0,
    });
    const app = createRelayHttp({ relay });
    const [a] = inShard(1) as [string];
    const before = distributed.heartbeats.accepted;
    const post = (body: unknown, authorization?: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/heartbeats',
        payload: body as object,
        headers: authorization === undefined ? {} : { authorization },
      });
    seq++;
    const batchOf = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ nodeId: a, seq: seq + i, load: 0.3 }));
    const noToken = await post(batchOf(1));
    expect([noToken.statusCode, noToken.json().error.code]).toEqual([
      401,
      'WYNEOS_ERR_UNAUTHENTICATED',
    ]);
    const one = await post(batchOf(1)[0], `Bearer ${token(a)}`);
    expect([one.statusCode, one.json()]).toEqual([202, { queued: 1 }]);
    // Four do not fit next to the one queued: none of them is queued.
    const full = await post(batchOf(4), `Bearer ${token(a)}`);
    expect([full.statusCode, full.json().error.code, full.headers['retry-after']]).toEqual([
      503,
      'WYNEOS_ERR_RELAY_FULL',
      '1',
    ]);
    expect(relay.queued()).toBe(1);
    await relay.stop();
    await app.close();
    await eventually(
      () => distributed.heartbeats.accepted - before,
      (n) => n >= 1,
    );
    expect(sup().node(a)?.seq).toBe(seq);
  });

  it('wyneos relay: takes heartbeats over HTTP, and publishes what it holds when it is stopped', async () => {
    const [a] = inShard(0) as [string];
    const relay = wyneos([
      ...['relay', '--nats', server.url, '--id', 'cli-relay', '--shards', String(shards)],
      ...['--port', '0', '--interval', '1h'],
    ]);
    const { url } = (await relay.waitFor((l) => l.msg === 'relay listening', 'listening')) as {
      url: string;
    };
    const next = (sup().node(a)?.seq ?? 0) + 1;
    const answer = await fetch(`${url}/v1/heartbeats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token(a)}` },
      body: JSON.stringify({ nodeId: a, seq: next, load: 0.7 }),
    });
    expect([answer.status, await answer.json()]).toEqual([202, { queued: 1 }]);
    // An hour's interval: only the shutdown publishes it.
    relay.child.kill('SIGTERM');
    expect(await relay.exited()).toBe(0);
    await eventually(
      () => sup().node(a)?.seq,
      (n) => n === next,
    );
    expect(sup().node(a)?.load).toBe(0.7);
  });
});
