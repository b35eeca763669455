import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { nodeToken } from '../../src/http/auth.js';
import {
  buckets,
  createRelay,
  type EnforcementMessage,
  keys,
  loadShard,
  nodeIdOfSubject,
  ShardLog,
  type StoredNode,
  StreamAuditLog,
  shardOf,
  subjects,
} from '../../src/nats/index.js';
import { natsServerPath, startNatsServer } from '../../test/nats/server.js';
import type { Derived, ScenarioResult } from '../measure.js';
import { rssKiB } from '../process-stats.js';

const shards = 16;
const supervisors = 8;
const beatMs = 5000;
const secret = 'scale-out-secret-0123456789abcdef';
/** The default fleet-wide share that may be isolated at once (safety.maxIsolatedFraction). */
const capFraction = 0.3;
const root = fileURLToPath(new URL('../..', import.meta.url));
const policy = `version: "scale-out-1"
rules:
  - id: overloaded
    use: maxLoad
    params: { max: 0.9 }
    severity: high
    enforcement: isolate
`;

interface Sup {
  readonly child: ChildProcess;
  readonly ticks: number[];
  rss: number;
  accepted: number;
}

/**
 * Issue 20's scale-out: a real nats-server, eight supervisor processes on 16 shards (5 s ticks),
 * one relay beating for the whole fleet every 5 s, 1% of nodes overloaded (isolated by policy),
 * 1% crashed (silent), then 60% partitioned away for 30 s, then one supervisor killed with
 * SIGKILL and, 30 s later, another. Sized by `WYNEOS_BENCH_SIZES` (first size; default 100,000).
 */
export async function scaleOut(): Promise<ScenarioResult | undefined> {
  if (natsServerPath === undefined) {
    console.log('scale-out skipped: nats-server is not installed');
    return undefined;
  }
  const nodes = Number((process.env.WYNEOS_BENCH_SIZES ?? '100000').split(',')[0]);
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-scale-out-'));
  writeFileSync(join(dir, 'policy.yaml'), policy);
  const server = await startNatsServer();
  const sups: Sup[] = [];
  const nc = await connect({ servers: server.url });
  const log = (text: string) => console.log(`scale-out ${new Date().toISOString()} ${text}`);
  try {
    for (let i = 0; i < supervisors; i++) {
      const child = spawn(
        process.execPath,
        [
          ...['--import', 'tsx', 'bench/scale-supervisor.ts', server.url, `s${i}`],
          ...[`${shards}`, join(dir, 'policy.yaml'), secret],
        ],
        { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const sup: Sup = { child, ticks: [], rss: 0, accepted: 0 };
      sups.push(sup);
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        if (!line.startsWith('{')) return;
        const stats = JSON.parse(line) as { accepted: number; ticks: number[] };
        sup.ticks.push(...stats.ticks);
        sup.accepted = stats.accepted;
      });
      await once(lines, 'line');
    }
    const leases = await new Kvm(nc).open(buckets.leases);
    const state = await new Kvm(nc).open(buckets.state);
    const changes = await ShardLog.open(nc);
    await waitFor(async () => (await holders(leases)).every((h) => h !== undefined), 60_000);
    log('shards held');
    const receipts: Array<{ nodeId: string; actionId: string; type: string }> = [];
    nc.subscribe(subjects.enforce('*'), {
      callback: (error, msg) => {
        if (error !== null) return;
        const message = msg.json<EnforcementMessage>();
        msg.respond('{"ok":true}');
        if (message.kind !== 'action') return;
        const nodeId = nodeIdOfSubject(msg.subject);
        receipts.push({ nodeId, actionId: message.action.id, type: message.action.type });
        void state.purge(keys.decision(nodeId, message.action.id)).catch(() => undefined);
      },
    });
    const ids = Array.from({ length: nodes }, (_, i) => `node-${i}`);
    const registeredIn = await register(nc, ids);
    log(`registered ${nodes} in ${registeredIn} ms`);

    // A round offers a whole shard's heartbeats at once: room for two rounds.
    const maxQueued = Math.max(10_000, 2 * Math.ceil(nodes / shards));
    const relay = createRelay({
      connection: nc,
      relayId: 'scale-out',
      shards,
      intervalMs: 0,
      maxQueued,
    });
    const tokens = ids.map((id) => nodeToken(secret, id));
    const overloaded = (i: number) => i % 100 === 3;
    const crashed = (i: number) => i % 100 === 5;
    let partitioned = false;
    let seq = 0;
    let offered = 0;
    const beat = () => {
      seq++;
      for (let i = 0; i < nodes; i++) {
        if (crashed(i) && seq > 2) continue;
        if (partitioned && i % 10 < 6) continue;
        const load = overloaded(i) && seq > 2 ? 0.99 : 0.2;
        relay.offer(tokens[i] as string, { nodeId: ids[i], seq, load });
        offered++;
      }
      void relay.flush().catch(() => undefined);
    };
    const beatStarted = performance.now();
    beat();
    const beating = setInterval(beat, beatMs);
    const memory = setInterval(() => {
      for (const sup of sups) {
        if (sup.child.pid !== undefined && sup.child.exitCode === null) {
          void rssKiB(sup.child.pid).then((kib) => {
            sup.rss = Math.max(sup.rss, kib);
          });
        }
      }
    }, 1000);
    try {
      await delay(40_000);
      log('partition: 60% of the fleet silent for 30 s');
      partitioned = true;
      await delay(30_000);
      partitioned = false;
      await delay(15_000);
      const takeovers: number[] = [];
      for (const round of [0, 1]) {
        const acknowledged = new Set(
          receipts.filter((r) => r.type === 'isolate').map((r) => r.nodeId),
        );
        const held = await holders(leases);
        const victim = held.find((h) => h !== undefined && !sups[Number(h.slice(1))]?.child.killed);
        const orphaned = held.flatMap((h, shard) => (h === victim ? [shard] : []));
        const killedAt = performance.now();
        sups[Number((victim as string).slice(1))]?.child.kill('SIGKILL');
        await waitFor(async () => {
          const now = await holders(leases);
          return orphaned.every((s) => now[s] !== undefined && now[s] !== victim);
        }, 120_000);
        takeovers.push(performance.now() - killedAt);
        log(
          `kill ${round + 1}: ${victim}'s ${orphaned.length} shards held again after ${Math.round(takeovers[round] as number)} ms`,
        );
        await delay(30_000);
        lostAfterKill[round] = await lost(state, changes, acknowledged);
      }
      clearInterval(beating);
      const beatSeconds = (performance.now() - beatStarted) / 1000;
      const audit = await StreamAuditLog.open(jetstream(nc), await jetstreamManager(nc), 'reader');
      const records = await audit.read();
      await audit.close();
      // Decisions whose changes were dropped unwritten (their lease lapsed first) never took
      // effect and were never told: the new holder deciding again is not a duplicate.
      const abandoned = new Set<string>();
      for (const r of records) {
        if (r.type !== 'abandoned' || !Array.isArray(r.data.actions)) continue;
        for (const id of r.data.actions as string[]) abandoned.add(id);
      }
      const isolateIds = new Map<string, Set<string>>();
      for (const r of records) {
        if (r.type !== 'action' || r.data.type !== 'isolate') continue;
        if (abandoned.has((r.data as { id: string }).id)) continue;
        const set = isolateIds.get(r.nodeId as string) ?? new Set();
        set.add((r.data as { id: string }).id);
        isolateIds.set(r.nodeId as string, set);
      }
      const duplicated = [...isolateIds.values()].filter((s) => s.size > 1).length;
      // What a node would apply twice: two isolate requests with different action ids.
      const toldIds = new Map<string, Set<string>>();
      for (const r of receipts) {
        if (r.type !== 'isolate') continue;
        toldIds.set(r.nodeId, (toldIds.get(r.nodeId) ?? new Set()).add(r.actionId));
      }
      const toldTwice = [...toldIds.values()].filter((s) => s.size > 1).length;
      const isolatedAtEnd = await isolatedAmong(
        state,
        changes,
        ids.filter((_, i) => overloaded(i) || crashed(i)),
      );
      const isolatedNow = isolatedAtEnd.length;
      // Isolated in the state, and its node never asked to isolate: a decision dropped on its way.
      const neverTold = isolatedAtEnd.filter((id) => !toldIds.has(id)).length;
      const derived: Derived[] = [];
      sups.forEach((sup, i) => {
        const sorted = [...sup.ticks].sort((a, b) => a - b);
        const at = (q: number) =>
          sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
        derived.push(
          { label: `s${i} tick p50`, value: at(0.5), unit: 'ms' },
          { label: `s${i} tick p99`, value: at(0.99), unit: 'ms' },
          { label: `s${i} peak RSS`, value: sup.rss / 1024, unit: 'MiB' },
          { label: `s${i} heartbeats accepted`, value: sup.accepted, unit: '' },
        );
      });
      derived.push(
        { label: 'registration', value: registeredIn / 1000, unit: 's' },
        { label: 'heartbeats offered/s', value: offered / beatSeconds, unit: '' },
        {
          label: 'heartbeats accepted/s (all supervisors)',
          value: sups.reduce((n, s) => n + s.accepted, 0) / beatSeconds,
          unit: '',
        },
        ...takeovers.map((ms, i) => ({
          label: `takeover after kill ${i + 1}`,
          value: ms,
          unit: 'ms',
        })),
        { label: 'isolated at the end (KV; the overloaded 1%)', value: isolatedNow, unit: '' },
        { label: 'fleet-wide isolation cap', value: Math.floor(capFraction * nodes), unit: '' },
        {
          label: 'lost decisions (kill 1, kill 2)',
          value: (lostAfterKill[0] ?? 0) + (lostAfterKill[1] ?? 0),
          unit: '',
        },
        { label: 'duplicated isolations', value: duplicated, unit: '' },
        {
          label: 'decisions abandoned (lease lapsed before durable)',
          value: abandoned.size,
          unit: '',
        },
        { label: 'nodes told to isolate twice (distinct action ids)', value: toldTwice, unit: '' },
        { label: 'isolated at the end, never told', value: neverTold, unit: '' },
      );
      const wrong = (lostAfterKill[0] ?? 0) + (lostAfterKill[1] ?? 0) + duplicated + neverTold;
      for (const d of derived) log(`${d.label}: ${Math.round(d.value * 10) / 10} ${d.unit}`);
      return {
        name: 'scale-out',
        ratioOf: 'lost + duplicated decisions + isolations never told',
        figures: [],
        ratio: wrong,
        budget: { kind: 'at most', value: 0 },
        meets: wrong === 0,
        derived,
      };
    } finally {
      clearInterval(beating);
      clearInterval(memory);
      await relay.stop().catch(() => undefined);
    }
  } finally {
    for (const sup of sups) if (sup.child.exitCode === null) sup.child.kill('SIGKILL');
    await nc.close();
    await server.stop();
  }
}

const lostAfterKill: number[] = [];

async function holders(leases: KV): Promise<Array<string | undefined>> {
  return Promise.all(
    Array.from({ length: shards }, async (_, shard) => {
      const entry = await leases.get(keys.lease(shard)).catch(() => null);
      return entry?.operation === 'PUT' ? entry.string() : undefined;
    }),
  );
}

/** Acknowledged isolations no longer isolated in KV. */
async function lost(
  state: KV,
  changes: ShardLog,
  acknowledged: ReadonlySet<string>,
): Promise<number> {
  const ids = [...acknowledged];
  return ids.length - (await isolatedAmong(state, changes, ids)).length;
}

/** Those of `ids` isolated in the shards' state now. */
async function isolatedAmong(
  state: KV,
  changes: ShardLog,
  ids: readonly string[],
): Promise<string[]> {
  const loaded = new Map<number, Map<string, StoredNode>>();
  const isolated: string[] = [];
  for (const id of ids) {
    const shard = shardOf(id, shards);
    if (!loaded.has(shard)) loaded.set(shard, (await loadShard(state, changes, shard)).nodes);
    if (loaded.get(shard)?.get(id)?.node.state === 'isolated') isolated.push(id);
  }
  return isolated;
}

async function waitFor(done: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('scale-out: gave up waiting');
    await delay(100);
  }
}

/** Registers every node, 2,000 in flight; answers the milliseconds it took. */
async function register(nc: NatsConnection, ids: readonly string[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++] as string;
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
  return performance.now() - started;
}
