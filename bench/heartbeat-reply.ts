/**
 * The heartbeat route's reply, serialised: batches of 1,000 heartbeats and single heartbeats
 * through fastify's `inject` (no sockets, so the route and its serialiser are most of the
 * time). `node --import tsx bench/heartbeat-reply.ts`. Compares the reply's response schema
 * (fast-json-stringify) with JSON.stringify in the docs' table (docs/benchmarks.md).
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { operatorToken } from '../src/exports/http.js';
import { createServer } from '../src/http/server.js';
import { createSupervisor } from '../src/index.js';

const nodes = 1000;
const rounds = 300;
const singles = 20_000;

async function main(): Promise<void> {
  const logger = pino({ level: 'silent' });
  const secret = 'bench secret, long enough for the server';
  const sup = createSupervisor({ logger });
  sup.start();
  const rate = { perSecond: 1e9, burst: 1e9 };
  const app = await createServer({
    supervisor: sup,
    logger,
    secret,
    heartbeatRate: rate,
    metrics: false,
    dashboard: false,
    accessLog: 'off',
  });
  const headers = { authorization: `Bearer ${operatorToken(secret)}` };
  const ids = Array.from({ length: nodes }, (_, i) => `node-${i}`);
  sup.registerMany(ids.map((id) => ({ id })));
  let seq = 0;
  const batch = () => ids.map((nodeId) => ({ nodeId, seq, load: 0.5 }));
  const run = async (count: number, payload: () => unknown) => {
    for (let i = 0; i < count / 10; i++) {
      seq++;
      await app.inject({
        method: 'POST',
        url: '/v1/heartbeats',
        headers,
        payload: payload() as object,
      });
    }
    const start = performance.now();
    const cpu = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      seq++;
      const answer = await app.inject({
        method: 'POST',
        url: '/v1/heartbeats',
        headers,
        payload: payload() as object,
      });
      if (answer.statusCode !== 200) throw new Error(answer.body);
    }
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
  };
  const batched = await run(rounds, batch);
  const single = await run(singles, () => ({ nodeId: 'node-0', seq, load: 0.5 }));
  // CPU time as well as wall time: on a shared machine the wall time swings with the others.
  console.log(
    `batch of ${nodes}: ${(batched.ms / rounds).toFixed(2)} ms wall, ${(batched.cpuMs / rounds).toFixed(2)} ms CPU; ` +
      `single: ${((single.ms / singles) * 1000).toFixed(0)} µs wall, ${((single.cpuMs / singles) * 1000).toFixed(0)} µs CPU`,
  );
  await app.close();
  await sup.stop();
}

await main();
