import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { type DistributedSupervisor, shardOf, startDistributedSupervisor } from 'wyneos/nats';
import { subjects } from '../../src/nats/index.js';
import { natsServerPath, startNatsServer } from '../../test/nats/server.js';
import type { Figure, ScenarioResult } from '../measure.js';

const nodes = 16_000;
const shards = 16;
const durationMs = 3000;
const warmupMs = 1000;
const secret = 'bench-relay-secret-0123456789abcdef';
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Heartbeats per second into one distributed supervisor holding every shard, the same nodes
 * sent two ways in the same run: one NATS message per heartbeat (as `nats-ingest`), and through
 * a relay (`createRelay`) that publishes each shard's heartbeats in batches of 1,000, each item
 * with its node's token, which the supervisor verifies (an HMAC per item). The publisher runs
 * in a process of its own; counted on the supervisor's side. Needs nats-server on the PATH.
 */
export async function relayIngest(): Promise<ScenarioResult | undefined> {
  if (natsServerPath === undefined) {
    console.log('relay-ingest skipped: nats-server is not installed (.ci/install-nats-server)');
    return undefined;
  }
  const server = await startNatsServer();
  const sup = await startDistributedSupervisor({
    nats: server.url,
    shards,
    supervisorId: 'bench',
    heartbeatTimeoutMs: 60_000,
    logger: pino({ level: 'silent' }),
    relaySecret: secret,
  });
  try {
    while (sup.shards().length < shards) await delay(20);
    await register(server.url);
    const single = await measure(sup, server.url, []);
    const relayed = await measure(sup, server.url, ['relay', secret]);
    const figure = (label: string, perSecond: number, accepted: number): Figure => ({
      label,
      unit: 'ms',
      mean: 1000 / perSecond,
      p50: 0,
      p99: 0,
      rme: 0,
      samples: accepted,
      evaluations: 1,
      evaluationsPerSecond: perSecond,
    });
    const count = nodes.toLocaleString('en-US');
    const ratio = relayed.perSecond / single.perSecond;
    return {
      name: 'relay-ingest',
      ratioOf: 'relayed / one message per heartbeat',
      figures: [
        figure(`NATS, one heartbeat a message, ${count} nodes`, single.perSecond, single.accepted),
        figure(
          `NATS, through a relay, batches of 1,000, ${count} nodes`,
          relayed.perSecond,
          relayed.accepted,
        ),
      ],
      ratio,
      budget: { kind: 'at least', value: 1 },
      meets: ratio >= 1,
      derived: [
        { label: 'supervisor CPU, one a message', value: single.cpu, unit: '' },
        { label: 'supervisor CPU, relayed', value: relayed.cpu, unit: '' },
        { label: 'publisher CPU, one a message', value: single.publisherCpu, unit: '' },
        { label: 'publisher CPU, relayed', value: relayed.publisherCpu, unit: '' },
        { label: 'relayed batches taken', value: sup.heartbeats.batches, unit: '' },
        { label: 'heartbeats refused', value: sup.heartbeats.refused, unit: '' },
      ],
    };
  } finally {
    await sup.stop();
    await server.stop();
  }
}

async function measure(
  sup: DistributedSupervisor,
  url: string,
  mode: readonly string[],
): Promise<{ perSecond: number; accepted: number; cpu: number; publisherCpu: number }> {
  let publisher: ChildProcess | undefined;
  try {
    publisher = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/nats-publisher.ts', url, String(shards), String(nodes), ...mode],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const output = publisher.stdout as NodeJS.ReadableStream;
    await new Promise<void>((resolve) => {
      createInterface({ input: output }).once('line', () => resolve());
    });
    await delay(warmupMs);
    const from = sup.heartbeats.accepted;
    const started = performance.now();
    const cpuFrom = process.cpuUsage();
    const publisherFrom = await cpuSeconds(publisher.pid);
    await delay(durationMs);
    const elapsedS = (performance.now() - started) / 1000;
    const accepted = sup.heartbeats.accepted - from;
    const cpu = process.cpuUsage(cpuFrom);
    return {
      perSecond: accepted / elapsedS,
      accepted,
      cpu: (cpu.user + cpu.system) / 1e6 / elapsedS,
      publisherCpu: ((await cpuSeconds(publisher.pid)) - publisherFrom) / elapsedS,
    };
  } finally {
    publisher?.kill('SIGKILL');
    // What the killed publisher left in flight drains before the next run counts.
    await delay(500);
  }
}

// A process's CPU time in seconds, from /proc (Linux); NaN elsewhere.
async function cpuSeconds(pid: number | undefined): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function register(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  const ids = Array.from({ length: nodes }, (_, i) => `node-${i}`);
  for (let i = 0; i < ids.length; i += 500) {
    await Promise.all(
      ids.slice(i, i + 500).map((id) =>
        nc.request(subjects.register(shardOf(id, shards), id), JSON.stringify({ id }), {
          timeout: 60_000,
        }),
      ),
    );
  }
  await nc.close();
}
