import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { createSupervisor } from 'wyneos';
import { nodeToken, operatorToken } from 'wyneos/http';
import { type Figure, measure, type ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';

const workers = 4;
const nodesPerWorker = scaled(1000, 50);
const singleConcurrency = 32;
const durationMs = scaled(3000, 300);
const warmupMs = scaled(500, 100);
/** Not in the architecture's budget: a floor for batched HTTP ingest, set with this scenario. */
const budget = 100_000;
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Heartbeats per second over HTTP into `wyneos serve` (a child process, so the client here
 * does not share its core), driven by autocannon: one heartbeat a request with each node's
 * token over 32 connections, and batches of 1,000 with the operator's token, one connection per
 * worker. Both use keep-alive connections. Compared with `sup.heartbeat` in process on the same fleet size,
 * in the same run.
 */
export async function httpIngest(): Promise<ScenarioResult> {
  const ids = Array.from({ length: workers * nodesPerWorker }, (_, i) => `node-${i}`);
  const inProcess = await measureInProcess(ids);

  const dir = await mkdtemp(join(tmpdir(), 'wyneos-bench-'));
  const secret = 'bench secret, long enough for the server';
  await writeFile(join(dir, 'secret'), secret);
  const server = await startServer(join(dir, 'secret'));
  try {
    const key = Buffer.from(secret);
    const client = new Client(server.url, `Bearer ${operatorToken(key)}`);
    for (const id of ids) await client.post('/v1/nodes', { id }, client.operator);
    const tokens = ids.map((id) => `Bearer ${nodeToken(key, id)}`);
    const seqs = new Array<number>(ids.length).fill(0);
    const nextSeq = (i: number) => {
      const seq = (seqs[i] ?? 0) + 1;
      seqs[i] = seq;
      return seq;
    };

    let next = 0;
    const single = await client.run('HTTP, one heartbeat a request', 1, singleConcurrency, () => {
      const i = next++ % ids.length;
      const body = { nodeId: ids[i], seq: nextSeq(i), load: 0.5, metrics: { mem: 0.4 } };
      return [body, tokens[i] as string];
    });
    const batched = await client.run(
      'HTTP, batches of 1,000',
      nodesPerWorker,
      workers,
      // Each worker its own 1,000 nodes, so no two batches in flight carry the same node.
      (worker) => {
        const from = worker * nodesPerWorker;
        const batch = ids.slice(from, from + nodesPerWorker).map((nodeId, k) => ({
          nodeId,
          seq: nextSeq(from + k),
          load: 0.5,
          metrics: { mem: 0.4 },
        }));
        return [batch, client.operator];
      },
    );
    const ratio = batched.evaluationsPerSecond;
    return {
      name: 'http-ingest',
      ratioOf: 'heartbeats/s over HTTP, batches of 1,000',
      figures: [inProcess, single, batched],
      ratio,
      budget: { kind: 'at least', value: budget },
      meets: ratio >= budget,
      derived: [
        {
          label: 'in process / HTTP one a request',
          value: inProcess.evaluationsPerSecond / single.evaluationsPerSecond,
          unit: '×',
        },
        {
          label: 'in process / HTTP batched',
          value: inProcess.evaluationsPerSecond / batched.evaluationsPerSecond,
          unit: '×',
        },
        ...[single, batched].map((f) => ({
          label: `client CPU, ${f.label} (share of a core)`,
          value: client.cpuShare.get(f.label) ?? 0,
          unit: '',
        })),
        {
          label: 'batched / one a request',
          value: batched.evaluationsPerSecond / single.evaluationsPerSecond,
          unit: '×',
        },
      ],
    };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureInProcess(ids: readonly string[]): Promise<Figure> {
  const sup = createSupervisor({ logger: pino({ level: 'silent' }) });
  sup.registerMany(ids.map((id) => ({ id })));
  const beats = ids.map((nodeId) => ({ nodeId, seq: 0, load: 0.5, metrics: { mem: 0.4 } }));
  let seq = 0;
  const [figure] = await measure(
    [
      {
        label: `in process, sup.heartbeat, ${ids.length.toLocaleString('en-US')} nodes`,
        evaluations: ids.length,
        fn: () => {
          seq++;
          for (const beat of beats) {
            beat.seq = seq;
            sup.heartbeat(beat);
          }
        },
      },
    ],
    { time: 1000, iterations: 20, warmupTime: 200 },
  );
  await sup.stop();
  if (figure === undefined) throw new Error('in-process figure missing');
  return figure;
}

async function startServer(secretFile: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'],
      ...['--secret-file', secretFile],
      // No node is limited by the rate here; the limiter still runs for every heartbeat.
      ...['--heartbeat-rate', '1000000', '--heartbeat-burst', '1000000'],
      ...['--heartbeat-timeout', '60s', '--log-level', 'info'],
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`wyneos serve exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      if (parsed.msg === 'wyneos serve listening' && parsed.url) resolve(parsed.url);
    });
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Load from autocannon against one server: keep-alive connections, each request's body and
 * token built by `next` for the connection that sends it. Registration uses plain `fetch`.
 */
class Client {
  /** The share of one core the client itself used, per run: near 1 means the client limits. */
  readonly cpuShare = new Map<string, number>();

  constructor(
    private readonly base: string,
    readonly operator: string,
  ) {}

  async post(path: string, body: unknown, authorization: string): Promise<number> {
    const response = await fetch(new URL(path, this.base), {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${path}: ${response.status}`);
    return response.status;
  }

  /**
   * `connections` keep-alive connections sending requests built by `next` (given the
   * connection's index) for a warm-up, then for `durationMs`; heartbeats per second from the
   * timed part.
   */
  async run(
    label: string,
    perRequest: number,
    connections: number,
    next: (connection: number) => [unknown, string],
  ): Promise<Figure> {
    let connection = 0;
    const load = (seconds: number) =>
      autocannon({
        url: this.base,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/v1/heartbeats',
            setupRequest: (request, context) => {
              const state = context as { connection?: number };
              state.connection ??= connection++ % connections;
              const [body, authorization] = next(state.connection);
              return {
                ...request,
                headers: { authorization, 'content-type': 'application/json' },
                body: JSON.stringify(body),
              };
            },
          },
        ],
      });
    await load(warmupMs / 1000);
    const cpuFrom = process.cpuUsage();
    const result = await load(durationMs / 1000);
    const cpu = process.cpuUsage(cpuFrom);
    // A request stalled behind a pause can arrive after its node's next heartbeat (409, stale):
    // a rare loss the server is right to refuse. More than 1% means something else is wrong.
    if (result.non2xx + result.errors > result.requests.total / 100) {
      throw new Error(
        `${label}: ${result.non2xx} answers not 2xx (${JSON.stringify(result.statusCodeStats)}), ${result.errors} errors`,
      );
    }
    this.cpuShare.set(label, (cpu.user + cpu.system) / 1e6 / (durationMs / 1000));
    return {
      label,
      unit: 'ms',
      mean: result.latency.mean,
      p50: result.latency.p50,
      p99: result.latency.p99,
      rme: 0,
      samples: result.requests.total,
      evaluations: perRequest,
      // Throughput with requests in flight at once, not evaluations / mean latency.
      evaluationsPerSecond:
        ((result.requests.total - result.non2xx) * perRequest) / (durationMs / 1000),
    };
  }
}
