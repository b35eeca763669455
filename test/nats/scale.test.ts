import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeToken } from '../../src/http/auth.js';
import {
  buckets,
  createRelay,
  type EnforcementMessage,
  keys,
  loadShard,
  nodeIdOfSubject,
  type Relay,
  ShardLog,
  type StoredNode,
  StreamAuditLog,
  shardOf,
  subjects,
} from '../../src/nats/index.js';
import { killAll, type Process, until, wyneos } from '../processes.js';
import { type NatsServer, natsServerPath, startNatsServer } from './server.js';

// Issue 20's CI scale check: real `wyneos serve --nats` processes share a fleet, its heartbeats
// come through a relay, a policy isolates one node in 200, and one supervisor is killed with
// SIGKILL. Its shards must be held again within the lease plus two ticks, and every isolation
// acknowledged before the kill must still stand afterwards, decided and carried out once.
// Ticks every 2 s and heartbeats every 5 s: what four supervisors, the relay and nats-server
// sustain together on two cores. Not part of `npm test`, as it needs the machine to itself:
// `npm run test:scale` (CI runs it after `npm test`) sets WYNEOS_SCALE_NODES to 50,000; set it
// to 2000 for a quick local run. Without it the test is skipped.
const scale = process.env.WYNEOS_SCALE_NODES;
const nodes = Number(scale ?? 0);
const supervisors = 4;
const shards = 16;
const tickMs = 2000;
const heartbeatMs = 5000;
const leaseMs = 5000;
const secret = 'scale-test-secret-0123456789abcdef';
const ids = Array.from({ length: nodes }, (_, i) => `node-${i}`);
/** The nodes the policy isolates: they report a fault in every heartbeat. */
const faulty = new Set(ids.filter((_, i) => i % 200 === 7));
const policy = `version: "scale-1"
rules:
  - id: faulty
    use: maxLoad
    params: { max: 0.9 }
    severity: high
    enforcement: isolate
`;
// An automatic isolation lasts the whole test: a reinstatement would open a second spell.
const config = 'supervisor:\n  escalation: { baseMs: 3600000, maxMs: 3600000 }\n';

type Receipt = { nodeId: string; actionId: string; type: string };

describe.skipIf(natsServerPath === undefined || scale === undefined)('nats at scale', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let relay: Relay | undefined;
  let beating: ReturnType<typeof setInterval> | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-scale-'));
  const procs: Process[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    // Whatever happened: every process this file started goes, then the server.
    clearInterval(beating);
    killAll();
    await Promise.all(procs.map((p) => p.exited()));
    await relay?.stop().catch(() => undefined);
    await nc?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('loses no acknowledged decision and applies none twice when a supervisor is killed', {
    timeout: 120_000,
  }, async () => {
    writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
    writeFileSync(join(dir, 'policy.yaml'), policy);
    writeFileSync(join(dir, 'config.yaml'), config);
    for (let i = 0; i < supervisors; i++) {
      procs.push(
        wyneos([
          ...['serve', '--nats', server.url, '--shards', String(shards), '--port', '0'],
          ...['--supervisor-id', `s${i}`, '--lease', `${leaseMs}ms`, '--tick', `${tickMs}ms`],
          ...['--heartbeat-timeout', '60s', '--secret-file', join(dir, 'secret')],
          ...[
            '--policy',
            join(dir, 'policy.yaml'),
            '--config',
            join(dir, 'config.yaml'),
            '--log-level',
            'warn',
          ],
          // The caps are not under test here: the policy's isolations all go through at once.
          ...['--max-isolations-per-minute', '100000', '--max-actions-per-tick', '100000'],
        ]),
      );
    }
    const kvm = new Kvm(nc);
    const leases = await until(
      () => kvm.open(buckets.leases).catch(() => undefined),
      (kv) => kv !== undefined,
      60_000,
      'the lease bucket',
    );
    const holders = () => holdersOf(leases as KV);
    // Every supervisor holds some shards before the fleet comes: no handover mid-registration.
    await until(
      holders,
      (held) => held.every((h) => h !== undefined) && new Set(held).size === supervisors,
      60_000,
      'the shards spread over four supervisors',
    );

    // What the nodes are told, as an agent would answer it: acknowledged, then cleared.
    const state = await kvm.open(buckets.state);
    const receipts: Receipt[] = [];
    nc.subscribe(subjects.enforce('*'), {
      callback: (error, msg) => {
        if (error !== null) return;
        const message = msg.json<EnforcementMessage>();
        msg.respond(JSON.stringify({ ok: true }));
        if (message.kind !== 'action') return;
        const nodeId = nodeIdOfSubject(msg.subject);
        receipts.push({ nodeId, actionId: message.action.id, type: message.action.type });
        void state.purge(keys.decision(nodeId, message.action.id)).catch(() => undefined);
      },
    });

    await register(nc, ids);
    relay = createRelay({ connection: nc, relayId: 'scale', shards, intervalMs: 0 });
    const tokens = new Map(ids.map((id) => [id, nodeToken(secret, id)]));
    let seq = 0;
    const beat = () => {
      seq++;
      for (const id of ids) {
        const load = faulty.has(id) ? 0.99 : 0.2;
        relay?.offer(tokens.get(id) as string, { nodeId: id, seq, load });
      }
      void relay?.flush().catch(() => undefined);
    };
    beat();
    beating = setInterval(beat, heartbeatMs);

    const isolatedBy = () =>
      new Set(receipts.filter((r) => r.type === 'isolate').map((r) => r.nodeId));
    await until(isolatedBy, (told) => told.size === faulty.size, 60_000, 'every faulty node told');
    const acknowledged = isolatedBy();

    // Kill the holder of shard 0 outright: no release, no last commit.
    const held = await holders();
    const victim = held[0] as string;
    const orphaned = held.flatMap((h, shard) => (h === victim ? [shard] : []));
    const proc = procs[Number(victim.slice(1))] as Process;
    const killedAt = Date.now();
    proc.child.kill('SIGKILL');
    await proc.exited();
    const after = await until(
      holders,
      (now) => orphaned.every((shard) => now[shard] !== undefined && now[shard] !== victim),
      60_000,
      'the orphaned shards held again',
    );
    const takeoverMs = Date.now() - killedAt;
    console.log(
      `scale: ${nodes} nodes; shards ${orphaned.join(',')} of ${victim} held again after ${takeoverMs} ms by ${orphaned.map((s) => after[s]).join(',')}`,
    );
    expect(takeoverMs).toBeLessThanOrEqual(leaseMs + 2 * tickMs);

    // Three more ticks and a heartbeat round on the new holders: time for a lost isolation to
    // be decided again, which would show as a second isolate.
    await delay(Math.max(3 * tickMs, heartbeatMs) + tickMs);
    const changes = await ShardLog.open(nc);
    const loaded = new Map<number, Map<string, StoredNode>>();
    for (const id of acknowledged) {
      const shard = shardOf(id, shards);
      if (!loaded.has(shard)) loaded.set(shard, (await loadShard(state, changes, shard)).nodes);
      expect(loaded.get(shard)?.get(id)?.node.state, id).toBe('isolated');
    }
    const audit = await StreamAuditLog.open(jetstream(nc), await jetstreamManager(nc), 'reader');
    const isolations = (await audit.read()).filter(
      (r) => r.type === 'action' && r.data.type === 'isolate',
    );
    await audit.close();
    // An action is recorded as proposed and then as applied: one action id per node.
    const decided = new Set(isolations.map((r) => `${r.nodeId} ${(r.data as { id: string }).id}`));
    expect(countBy([...decided].map((key) => key.split(' ')[0] as string))).toEqual(ones(faulty));
    const applied = receipts.filter((r) => r.type === 'isolate');
    const distinct = new Set(applied.map((r) => `${r.nodeId} ${r.actionId}`));
    expect(countBy([...distinct].map((key) => key.split(' ')[0] as string))).toEqual(ones(faulty));
  });
});

async function holdersOf(leases: KV): Promise<Array<string | undefined>> {
  return Promise.all(
    Array.from({ length: shards }, async (_, shard) => {
      const entry = await leases.get(keys.lease(shard)).catch(() => null);
      return entry?.operation === 'PUT' ? entry.string() : undefined;
    }),
  );
}

/** Registers every node through NATS, 2,000 in flight, each retried until its shard answers. */
async function register(nc: NatsConnection, all: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const id = all[next++] as string;
      for (;;) {
        const body = await nc
          .request(subjects.register(shardOf(id, shards), id), JSON.stringify({ id }), {
            timeout: 10_000,
          })
          .then((reply) => reply.json<{ error?: { code: string } }>())
          .catch(() => ({ error: { code: 'no answer' } }));
        if (body.error === undefined || body.error.code === 'WYNEOS_ERR_DUPLICATE_NODE') break;
        await delay(100);
      }
    }
  };
  await Promise.all(Array.from({ length: 2000 }, worker));
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function ones(set: ReadonlySet<string>): Record<string, number> {
  return Object.fromEntries([...set].map((id) => [id, 1]));
}
