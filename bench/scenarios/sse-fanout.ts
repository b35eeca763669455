import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import type { Figure, ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';
import { cpuSeconds, rssKiB } from '../process-stats.js';

const clientCount = scaled(2000, 20);
const nodeCount = scaled(500, 20);
const durationMs = scaled(8000, 500);
const warmupMs = scaled(1000, 100);
/** Heartbeats a second, held steady, so latency is compared at the same load. */
const heartbeatRate = scaled(500, 100);
/** Operator commands a second, each a transition and action steps on every stream. */
const commandRate = 5;
/** One node in this many has a load that swings over and under the overload marks... */
const swingEvery = 5;
/** ...every this many of its beats. */
const swingBeats = 5;
/** With 2,000 streams open, heartbeat p99 within this factor of none. */
const budget = 3;
// `WYNEOS_BENCH_SERVER=<checkout>` runs another checkout's `serve` (an earlier release) with
// the same load, for a before and after.
const root = process.env.WYNEOS_BENCH_SERVER ?? fileURLToPath(new URL('../..', import.meta.url));

/**
 * Heartbeat latency and server memory with 2,000 event streams open (`GET /v1/events`) against
 * none, in the same run on the same `wyneos serve` (a child process): a fleet beating at a
 * steady rate, driven by autocannon, a fifth of them swinging over and under the overload marks,
 * while an operator isolates and reinstates nodes: each stream carries a few dozen
 * transitions and actions a second as well as every tick and report.
 */
export async function sseFanout(): Promise<ScenarioResult> {
  const server = await startServer();
  let clients: Clients | undefined;
  try {
    for (let i = 0; i < nodeCount; i++) await server.post('/v1/nodes', { id: `node-${i}` });
    const commands = drive(server);
    try {
      const quiet = await measureHeartbeats(server, 'no event stream');
      clients = await openStreams(server.url, clientCount);
      const busy = await measureHeartbeats(
        server,
        `${clientCount.toLocaleString('en-US')} event streams`,
      );
      const least = await clients.leastReceived();
      const open = (await server.metrics()).match(/^wyneos_sse_clients (\d+)/m)?.[1];
      const ratio = busy.figure.p99 / quiet.figure.p99;
      return {
        name: 'sse-fanout',
        ratioOf: `heartbeat p99, ${clientCount} event streams / none`,
        figures: [quiet.figure, busy.figure],
        ratio,
        budget: { kind: 'at most', value: budget },
        meets: ratio <= budget,
        derived: [
          { label: 'server RSS, no event stream (peak)', value: quiet.rssMiB, unit: 'MiB' },
          {
            label: `server RSS, ${clientCount} event streams (peak)`,
            value: busy.rssMiB,
            unit: 'MiB',
          },
          { label: 'RSS with streams / without', value: busy.rssMiB / quiet.rssMiB, unit: '×' },
          {
            label: 'server CPU, no event stream (share of a core)',
            value: quiet.cpuShare,
            unit: '',
          },
          {
            label: `server CPU, ${clientCount} event streams (share of a core)`,
            value: busy.cpuShare,
            unit: '',
          },
          { label: 'bytes each stream received (least)', value: least, unit: 'B' },
          { label: 'streams open at the end', value: Number(open ?? Number.NaN), unit: '' },
        ],
      };
    } finally {
      commands.stop();
    }
  } finally {
    clients?.close();
    await server.stop();
  }
}

interface Server {
  readonly url: string;
  readonly pid: number;
  /** The latest heartbeat seq sent, over every node: each node's seqs rise with it. */
  seq: number;
  post(path: string, body: unknown): Promise<void>;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const cli = ['--import', 'tsx', 'src/cli/main.ts', 'serve'];
  const help = await promisify(execFile)(process.execPath, [...cli, '--help'], { cwd: root });
  // A release without the cap serves every stream; one with it needs room for them all.
  const cap = help.stdout.includes('--max-sse-clients')
    ? ['--max-sse-clients', String(clientCount)]
    : [];
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...cli,
      // Warnings only: a log line per transition would cost the server more than the streams.
      ...['--port', String(port), '--log-level', 'warn', '--heartbeat-timeout', '60s'],
      ...['--heartbeat-rate', '1000000', '--heartbeat-burst', '1000000'],
      // Nodes go overloaded and back on the tick their load crosses a mark: a steady churn of
      // transitions and reduce-load actions for the streams to carry.
      ...['--overload-ticks', '1'],
      ...cap,
    ],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    child.on('exit', (code) => reject(new Error(`wyneos serve exited with ${code}`))),
  );
  for (;;) {
    const up = await Promise.race([
      fetch(new URL('/healthz', url)).then(
        (r) => r.ok,
        () => false,
      ),
      exited,
    ]);
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Up: its exit from now on is the stop asked for.
  exited.catch(() => {});
  return {
    url,
    pid: child.pid as number,
    seq: 0,
    async post(path, body) {
      const response = await fetch(new URL(path, url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status >= 300) throw new Error(`${path}: ${response.status}`);
    },
    async metrics() {
      return (await fetch(new URL('/metrics', url))).text();
    },
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Isolates and reinstates nodes in turn, `commandRate` times a second. */
function drive(server: Server): { stop(): void } {
  let n = 0;
  const timer = setInterval(() => {
    const node = `node-${Math.floor(n / 2) % 10}`;
    const command = n++ % 2 === 0 ? 'isolate' : 'reinstate';
    server.post(`/v1/nodes/${node}/${command}`, { reason: 'sse fan-out benchmark' }).catch(() => {
      // A command lost under load only makes fewer events; the figures still compare.
    });
  }, 1000 / commandRate);
  return { stop: () => clearInterval(timer) };
}

interface Clients {
  /** The bytes the slowest stream has received. */
  leastReceived(): Promise<number>;
  close(): void;
}

/** `count` event streams, opened and read by a child process (bench/sse-clients.ts). */
async function openStreams(url: string, count: number): Promise<Clients> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/sse-clients.ts', url, String(count)],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`sse clients exited with ${code}`)));
    });
  if ((await next()) !== 'ready') throw new Error('sse clients did not start');
  return {
    async leastReceived() {
      child.stdin?.write('\n');
      return Number(await next());
    },
    close: () => child.stdin?.end(),
  };
}

/** Heartbeat latency at `heartbeatRate` a second, and the server's peak RSS meanwhile. */
async function measureHeartbeats(
  server: Server,
  label: string,
): Promise<{ figure: Figure; rssMiB: number; cpuShare: number }> {
  const connections = 8;
  const load = (seconds: number) =>
    autocannon({
      url: server.url,
      connections,
      overallRate: heartbeatRate,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/v1/heartbeats',
          setupRequest: (request) => {
            const seq = ++server.seq;
            const node = seq % nodeCount;
            const high =
              node % swingEvery === 0 && Math.floor(seq / (nodeCount * swingBeats)) % 2 === 1;
            const body = { nodeId: `node-${node}`, seq, load: high ? 0.95 : 0.3 };
            return {
              ...request,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            };
          },
        },
      ],
    });
  await load(warmupMs / 1000);
  const cpuFrom = await cpuSeconds(server.pid);
  let peak = 0;
  const sampler = setInterval(() => {
    void rssKiB(server.pid).then((kib) => {
      peak = Math.max(peak, kib);
    });
  }, 200);
  let result: autocannon.Result;
  try {
    result = await load(durationMs / 1000);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, await rssKiB(server.pid));
  const cpuShare = ((await cpuSeconds(server.pid)) - cpuFrom) / (durationMs / 1000);
  // Requests on different connections can overtake one another, and one for a node can arrive
  // after its next one (a 409, stale): a few are no fault; more than 1% of a run is.
  if (result.non2xx + result.errors > Math.max(5, result.requests.total / 100)) {
    throw new Error(
      `${label}: ${result.non2xx} answers not 2xx (${JSON.stringify(result.statusCodeStats)}), ${result.errors} errors`,
    );
  }
  return {
    figure: {
      label: `heartbeat over HTTP, ${label}`,
      unit: 'ms',
      mean: result.latency.mean,
      p50: result.latency.p50,
      p99: result.latency.p99,
      rme: 0,
      samples: result.requests.total,
      evaluations: 1,
      evaluationsPerSecond: (result.requests.total - result.non2xx) / (durationMs / 1000),
    },
    rssMiB: peak / 1024,
    cpuShare,
  };
}

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
