import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createSupervisor, nodeToken, operatorToken } from 'wyneos';
import { type Figure, measure, type ScenarioResult } from '../measure.js';

const workers = 4;
const nodesPerWorker = 1000;
const singleConcurrency = 32;
const durationMs = 3000;
const warmupMs = 500;
/** Not in the architecture's budget: a floor for batched HTTP ingest, set with this scenario. */
const budget = 100_000;
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Heartbeats per second over HTTP into `wyneos serve` (a child process, so the client here
 * does not share its core): one heartbeat a request with each node's token, 32 requests in
 * flight, and batches of 1,000 with the operator's token, one batch in flight per worker. Both
 * use keep-alive connections. Compared with `sup.heartbeat` in process on the same fleet size,
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

/** Keep-alive JSON requests against one server, measured by throughput and latency. */
class Client {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** The share of one core the client itself used, per run: near 1 means the client limits. */
  readonly cpuShare = new Map<string, number>();
  private readonly url: URL;

  constructor(
    base: string,
    readonly operator: string,
  ) {
    this.url = new URL(base);
  }

  post(path: string, body: unknown, authorization: string): Promise<number> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          path,
          method: 'POST',
          headers: {
            authorization,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 300) reject(new Error(`${path}: ${status}`));
            else resolve(status);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Runs `concurrency` loops of requests built by `next` (worker index given) for the warm-up
   * and then `durationMs`; heartbeats per second from the requests completed in the timed part.
   */
  async run(
    label: string,
    perRequest: number,
    concurrency: number,
    next: (worker: number) => [unknown, string],
  ): Promise<Figure> {
    const latencies: number[] = [];
    const started = performance.now();
    let cpuFrom = process.cpuUsage();
    const measuredFrom = started + warmupMs;
    const end = measuredFrom + durationMs;
    const loop = async (worker: number) => {
      while (performance.now() < end) {
        const [body, authorization] = next(worker);
        const t = performance.now();
        if (t >= measuredFrom && latencies.length === 0) cpuFrom = process.cpuUsage();
        await this.post('/v1/heartbeats', body, authorization);
        if (t >= measuredFrom) latencies.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, worker) => loop(worker)));
    const elapsedS = (performance.now() - measuredFrom) / 1000;
    const cpu = process.cpuUsage(cpuFrom);
    this.cpuShare.set(label, (cpu.user + cpu.system) / 1e6 / elapsedS);
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    const mean = latencies.reduce((sum, x) => sum + x, 0) / Math.max(1, latencies.length);
    return {
      label,
      unit: 'ms',
      mean,
      p50: at(0.5),
      p99: at(0.99),
      rme: 0,
      samples: latencies.length,
      evaluations: perRequest,
      // Throughput with requests in flight at once, not evaluations / mean latency.
      evaluationsPerSecond: (latencies.length * perRequest) / elapsedS,
    };
  }
}
