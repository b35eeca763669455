import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Supervisor } from 'wyneos';
import { shardOf, startDistributedSupervisor, subjects } from '../../src/nats/index.js';
import { httpFleet, simulatedSupervisor } from '../helpers.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

// One hostile heartbeat sequence through the three ways in: in-process `sup.heartbeats`, HTTP
// and NATS. Each must come out the same: the same answers, node state, trust and counters.

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
// Four heartbeats, then practically none: the NATS supervisor runs on the real clock, and its
// refill over the test's few seconds must stay far below one token.
const rate = { perSecond: 0.001, burst: 4 };
const ids = ['a', 'b'];

/** [sender, heartbeat]: who sends it (its token, its subject), and what. */
const sequence: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['a', { nodeId: 'a', seq: 1, load: 0.2 }], // valid
  ['a', { nodeId: 'a', seq: 1, load: 0.3 }], // replayed
  ['a', { nodeId: 'a', seq: 0, load: 0.3 }], // stale
  ['a', { nodeId: 'a', seq: 2, load: 7 }], // malformed
  ['ghost', { nodeId: 'ghost', seq: 1, load: 0.1 }], // unknown node
  ['a', { nodeId: 'a', seq: 2, load: 0.4 }], // valid, the burst's last token
  ['a', { nodeId: 'a', seq: 3, load: 0.5 }], // over the rate
  ['b', { nodeId: 'a', seq: 4, load: 0.6 }], // b impersonating a
  ['b', { nodeId: 'b', seq: 1, load: 0.5 }], // valid
];
const expectedOutcomes = [
  'ok',
  'WYNEOS_ERR_STALE_HEARTBEAT',
  'WYNEOS_ERR_STALE_HEARTBEAT',
  'WYNEOS_ERR_INVALID_HEARTBEAT',
  'WYNEOS_ERR_UNKNOWN_NODE',
  'ok',
  'WYNEOS_ERR_RATE_LIMITED',
  'WYNEOS_ERR_FORBIDDEN',
  'ok',
];
const reasons: Record<string, string> = {
  WYNEOS_ERR_STALE_HEARTBEAT: 'stale',
  WYNEOS_ERR_INVALID_HEARTBEAT: 'invalid',
  WYNEOS_ERR_UNKNOWN_NODE: 'unknown-node',
  WYNEOS_ERR_RATE_LIMITED: 'rate-limited',
  WYNEOS_ERR_FORBIDDEN: 'forbidden',
};

interface PathOutcome {
  readonly outcomes: string[];
  readonly nodes: unknown;
  /** accepted, and rejected by reason, as the path counts them. */
  readonly counters: Record<string, number>;
}

/** What every path must agree on, read after a tick has applied the trust incidents. */
function nodesOf(sup: Supervisor): unknown {
  return ids.map((id) => {
    const node = sup.node(id);
    return {
      id,
      state: node?.state,
      seq: node?.seq,
      load: node?.load,
      trust: node?.trust,
      incidents: sup.explainTrust(id).entries.map((e) => [e.kind, e.detail, e.delta]),
    };
  });
}

function tally(outcomes: readonly string[]): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const outcome of outcomes) {
    const key = outcome === 'ok' ? 'accepted' : (reasons[outcome] as string);
    counters[key] = (counters[key] ?? 0) + 1;
  }
  return counters;
}

async function inProcess(): Promise<PathOutcome> {
  const { sup, advance } = simulatedSupervisor({ heartbeatRate: rate });
  sup.registerMany(ids.map((id) => ({ id })));
  const outcomes = sequence.map(([sender, beat]) => {
    const [result] = sup.heartbeats([beat], { sender });
    return result?.ok ? 'ok' : (result?.error.code as string);
  });
  advance(1000);
  const nodes = nodesOf(sup);
  await sup.stop();
  return { outcomes, nodes, counters: tally(outcomes) };
}

async function overHttp(): Promise<PathOutcome> {
  const fleet = await httpFleet({}, { heartbeatRate: rate });
  fleet.sup.registerMany(ids.map((id) => ({ id })));
  const outcomes: string[] = [];
  for (const [sender, beat] of sequence) {
    const answer = await fleet.app.inject({
      method: 'POST',
      url: '/v1/heartbeats',
      headers: fleet.node(sender),
      payload: beat,
    });
    outcomes.push(answer.statusCode === 200 ? 'ok' : answer.json().error.code);
  }
  fleet.advance(1000);
  const nodes = nodesOf(fleet.sup);
  const metrics = (await fleet.app.inject({ url: '/metrics' })).body;
  await fleet.close();
  const counters: Record<string, number> = {};
  for (const [, reason, count] of metrics.matchAll(
    /^wyneos_heartbeats_rejected_total\{reason="([a-z-]+)"\} (\d+)$/gm,
  )) {
    // Every known reason has a series from the start, at 0: count only what happened.
    if (Number(count) > 0) counters[reason as string] = Number(count);
  }
  const accepted = /^wyneos_heartbeats_accepted_total (\d+)$/m.exec(metrics)?.[1];
  counters.accepted = Number(accepted);
  return { outcomes, nodes, counters };
}

async function overNats(url: string): Promise<PathOutcome> {
  const distributed = await startDistributedSupervisor({
    nats: url,
    shards: 1,
    supervisorId: 'paths',
    logger,
    tickMs: 200,
    leaseMs: 2000,
    heartbeatRate: rate,
  });
  const sup = distributed.supervisor;
  await eventually(
    () => distributed.shards().length,
    (n) => n === 1,
  );
  const nc = await connect({ servers: url });
  for (const id of ids) {
    const reply = await nc.request(subjects.register(shardOf(id, 1), id), JSON.stringify({ id }));
    expect(reply.json()).toMatchObject({ node: { id } });
  }
  const outcomes: string[] = [];
  for (const [sender, beat] of sequence) {
    // Sent as requests, so they arrive in order and each gets its answer.
    const reply = await nc.request(
      subjects.heartbeat(shardOf(sender, 1), sender),
      JSON.stringify(beat),
    );
    const body = reply.json<{ boot?: number; error?: { code: string } }>();
    outcomes.push(body.error === undefined ? 'ok' : body.error.code);
  }
  // The trust incidents are applied on the next tick, which runs on the real clock.
  await eventually(
    () => sup.explainTrust('b').entries.length,
    (n) => n > 0,
  );
  const nodes = nodesOf(sup);
  const { accepted, refused, unknown } = distributed.heartbeats;
  await nc.close();
  await distributed.stop();
  return { outcomes, nodes, counters: { accepted, refused, unknown } };
}

describe.skipIf(natsServerPath === undefined)('one heartbeat path', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('gives one hostile sequence the same answers, node state, trust and counters in-process, over HTTP and over NATS', async () => {
    const local = await inProcess();
    const http = await overHttp();
    const nats = await overNats(server.url);

    expect(local.outcomes).toEqual(expectedOutcomes);
    expect(http.outcomes).toEqual(expectedOutcomes);
    expect(nats.outcomes).toEqual(expectedOutcomes);

    // Two stale and one malformed heartbeat cost a 0.02 each; impersonating a costs b 0.3.
    expect(local.nodes).toEqual([
      expect.objectContaining({ id: 'a', state: 'online', seq: 2, load: 0.4 }),
      expect.objectContaining({ id: 'b', state: 'online', seq: 1, load: 0.5 }),
    ]);
    const [a, b] = local.nodes as Array<{ trust: number }>;
    expect(a?.trust).toBeCloseTo(0.94);
    expect(b?.trust).toBeCloseTo(0.7);
    expect(http.nodes).toEqual(local.nodes);
    expect(nats.nodes).toEqual(local.nodes);

    expect(local.counters).toEqual({
      accepted: 3,
      stale: 2,
      invalid: 1,
      'unknown-node': 1,
      'rate-limited': 1,
      forbidden: 1,
    });
    // HTTP's Prometheus counters, and NATS's coarser ones, count the same.
    expect(http.counters).toEqual(local.counters);
    expect(nats.counters).toEqual({ accepted: 3, unknown: 1, refused: 5 });
  });
});
