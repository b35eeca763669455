import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { shardOf, subjects } from '../../src/nats/index.js';
import { natsServerPath, startNatsServer } from '../../test/nats/server.js';
import type { Figure, ScenarioResult } from '../measure.js';

const shards = 16;
const supervisors = 3;
/** Registrations in flight at once, as many agents starting together would send them. */
const inFlight = 2000;
/** The issue-20 budget: 100,000 nodes across three supervisors in 30 s. */
const budget = 100_000 / 30;
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Registrations per second through NATS into three distributed supervisors (each its own
 * process, sharing 16 shards): every node sends its registration request to its shard, and
 * each is answered once durable in KV. Sized by `WYNEOS_BENCH_SIZES` (its first size; default
 * 20,000). `WYNEOS_BENCH_PROFILE=<dir>` runs the supervisors under `--cpu-prof`. Reports the
 * rate for each tenth of the fleet, so how it falls as the fleet grows shows. Needs nats-server.
 */
export async function natsRegistration(): Promise<ScenarioResult | undefined> {
  if (natsServerPath === undefined) {
    console.log('nats-registration skipped: nats-server is not installed');
    return undefined;
  }
  const nodes = Number((process.env.WYNEOS_BENCH_SIZES ?? '20000').split(',')[0]);
  const profile = process.env.WYNEOS_BENCH_PROFILE;
  const server = await startNatsServer();
  const children: ChildProcess[] = [];
  try {
    const held = new Map<number, number>();
    for (let i = 0; i < supervisors; i++) {
      const flags = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
      const child = spawn(
        process.execPath,
        [...flags, '--import', 'tsx', 'bench/nats-supervisor.ts', server.url, `s${i}`, `${shards}`],
        { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      await once(lines, 'line');
      lines.on('line', (line) => {
        if (line.startsWith('shards ')) held.set(i, Number(line.slice(7)));
      });
    }
    // The shards spread over the supervisors before the clock starts: a handover mid-run
    // would be measured as registration. Each takes at most its share rounded up, so the last
    // has what is left (16 over 3: 6, 6 and 4).
    const least = shards - (supervisors - 1) * Math.ceil(shards / supervisors);
    const spread = () =>
      [...held.values()].reduce((a, b) => a + b, 0) === shards &&
      held.size === supervisors &&
      [...held.values()].every((n) => n >= least);
    const spreadBy = Date.now() + 60_000;
    while (!spread() && Date.now() < spreadBy) await delay(200);
    if (!spread()) console.log(`shards not spread after 60 s: ${[...held.values()].join(', ')}`);
    const nc = await connect({ servers: server.url });
    const ids = Array.from({ length: nodes }, (_, i) => `node-${i}`);
    const tenths: number[] = [];
    let done = 0;
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        for (;;) {
          try {
            const reply = await nc.request(
              subjects.register(shardOf(id, shards), id),
              JSON.stringify({ id }),
              { timeout: 5000 },
            );
            const body = reply.json<{ error?: { code: string } }>();
            if (body.error === undefined || body.error.code === 'WYNEOS_ERR_DUPLICATE_NODE') break;
          } catch {
            // No answer (timed out, or no holder): again.
          }
          await delay(100);
        }
        done++;
        if (done % (nodes / 10) === 0) tenths.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const elapsedMs = performance.now() - started;
    await nc.close();
    const perSecond = (nodes / elapsedMs) * 1000;
    const figure: Figure = {
      label: `NATS registration, ${nodes.toLocaleString('en-US')} nodes, ${supervisors} supervisors, ${shards} shards`,
      unit: 'ms',
      mean: elapsedMs,
      p50: 0,
      p99: 0,
      rme: 0,
      samples: nodes,
      evaluations: nodes,
      evaluationsPerSecond: perSecond,
    };
    return {
      name: 'nats-registration',
      ratioOf: 'registrations/s through NATS, answered once durable',
      figures: [figure],
      ratio: perSecond,
      budget: { kind: 'at least', value: budget },
      meets: perSecond >= budget,
      derived: tenths.map((at, i) => ({
        label: `registrations/s in tenth ${i + 1}`,
        value: nodes / 10 / ((at - (tenths[i - 1] ?? 0)) / 1000),
        unit: '',
      })),
    };
  } finally {
    for (const child of children) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await server.stop();
  }
}
