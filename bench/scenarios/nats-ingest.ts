import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { shardOf, startDistributedSupervisor } from 'wyneos/nats';
import { subjects } from '../../src/nats/index.js';
import { natsServerPath, startNatsServer } from '../../test/nats/server.js';
import type { Figure, ScenarioResult } from '../measure.js';

const nodes = 4000;
const shards = 16;
const durationMs = 3000;
const warmupMs = 1000;
/** Not in the architecture's budget: a floor for NATS ingest, set with this scenario. */
const budget = 50_000;
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Heartbeats per second through NATS into one distributed supervisor holding every shard: a
 * publisher process sends one heartbeat per node per round through a local nats-server
 * (JetStream on, as a fleet runs it), and the supervisor's subscriptions validate and record
 * them. Counted on the supervisor's side: heartbeats accepted in the timed window. Compare
 * with `heartbeat-ingest` (in process) and `http-ingest` in the same run. Needs nats-server
 * on the PATH (.ci/install-nats-server); skipped without it.
 */
export async function natsIngest(): Promise<ScenarioResult | undefined> {
  if (natsServerPath === undefined) {
    console.log('nats-ingest skipped: nats-server is not installed (.ci/install-nats-server)');
    return undefined;
  }
  const server = await startNatsServer();
  const sup = await startDistributedSupervisor({
    nats: server.url,
    shards,
    supervisorId: 'bench',
    heartbeatTimeoutMs: 60_000,
    logger: pino({ level: 'silent' }),
  });
  let publisher: ChildProcess | undefined;
  try {
    while (sup.shards().length < shards) await delay(20);
    await register(server.url);
    publisher = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/nats-publisher.ts', server.url, String(shards), String(nodes)],
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
    await delay(durationMs);
    const elapsedS = (performance.now() - started) / 1000;
    const accepted = sup.heartbeats.accepted - from;
    const cpu = process.cpuUsage(cpuFrom);
    const perSecond = accepted / elapsedS;
    const figure: Figure = {
      label: `NATS, ${nodes.toLocaleString('en-US')} nodes, one supervisor, ${shards} shards`,
      unit: 'ms',
      mean: 1000 / perSecond,
      p50: 0,
      p99: 0,
      rme: 0,
      samples: accepted,
      evaluations: 1,
      evaluationsPerSecond: perSecond,
    };
    return {
      name: 'nats-ingest',
      ratioOf: 'heartbeats/s through NATS',
      figures: [figure],
      ratio: perSecond,
      budget: { kind: 'at least', value: budget },
      meets: perSecond >= budget,
      derived: [
        {
          label: 'supervisor CPU (share of a core)',
          value: (cpu.user + cpu.system) / 1e6 / elapsedS,
          unit: '',
        },
        {
          label: 'heartbeats refused (stale or malformed)',
          value: sup.heartbeats.refused,
          unit: '',
        },
      ],
    };
  } finally {
    publisher?.kill('SIGKILL');
    await sup.stop();
    await server.stop();
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
