import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import type { DurableNode } from '../../src/index.js';
import * as nats from '../../src/nats/index.js';
import { durableNode, durableState } from '../../test/nats/durable-fixtures.js';
import { natsServerPath, startNatsServer } from '../../test/nats/server.js';
import type { Derived, Figure, ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';

const log = pino({ level: 'silent' });
/** Takeovers timed per size (each by a new holder, of the shard the last one took). */
const takeovers = 5;
/** Changes after the last checkpoint: rounds of isolations, as ticks would write them. */
const tailRounds = 20;
const tailPerRound = 50;

// Labels as a worker's, so records have a realistic size.
function node(id: string, state: DurableNode['state']): DurableNode {
  return durableNode(id, state, { zone: `z-${id.length % 7}`, role: 'worker' });
}

/**
 * How long a takeover of one shard takes, by shard size (3,000 and 12,000 nodes: a 50,000 and
 * a 200,000-node fleet on 16 shards): the shard is registered in batches of 1,000, then 1,000
 * nodes change in 20 rounds (the tail after the checkpoint), then new holders take it over one
 * after another, each timed from its claim to the nodes in hand. In-process state stores on a
 * real nats-server, no supervisor. Needs nats-server.
 */
export async function shardTakeover(): Promise<ScenarioResult | undefined> {
  if (natsServerPath === undefined) {
    console.log('shard-takeover skipped: nats-server is not installed');
    return undefined;
  }
  const sizes = scaled([3000, 12_000], [300, 1200]);
  const server = await startNatsServer();
  const nc = await nats.connectNats(server.url);
  const figures: Figure[] = [];
  const derived: Derived[] = [];
  try {
    const kvm = new Kvm(nc);
    const changes = await nats.ShardLog.open(nc);
    for (const [round, size] of sizes.entries()) {
      const kv = await kvm.create(`${nats.buckets.state}-takeover-${round}`, { history: 1 });
      await (await jetstreamManager(nc)).streams.purge(nats.changesStream);
      const options = { shards: 1, windowMs: 3000, log, changes, fenced: () => {} };
      let fence = 1;
      const first = new nats.KvStateStore(kv, 1, { ...options, fenceOf: () => 1 });
      await first.claim(0, fence);
      const nodes = Array.from({ length: size }, (_, i) => node(`node-${i}`, 'online'));
      for (let i = 0; i < size; i += 1000) {
        const batch = nodes.slice(i, i + 1000);
        await first.saveChanges(durableState(batch), new Set(batch.map((n) => n.id)));
      }
      await first.checkpointed();
      for (let r = 0; r < tailRounds; r++) {
        const batch = nodes
          .slice(r * tailPerRound, (r + 1) * tailPerRound)
          .map((n) => ({ ...n, state: 'isolated' as const }));
        await first.saveChanges(durableState(batch), new Set(batch.map((n) => n.id)));
      }
      const times: number[] = [];
      for (let t = 0; t < takeovers; t++) {
        fence++;
        const held = fence;
        const next = new nats.KvStateStore(kv, fence, { ...options, fenceOf: () => held });
        const started = performance.now();
        const claimed = await next.claim(0, fence);
        times.push(performance.now() - started);
        if (claimed.nodes.length !== size) throw new Error('shard-takeover: nodes went missing');
      }
      const sorted = [...times].sort((a, b) => a - b);
      const p50 = sorted[Math.floor(sorted.length / 2)] as number;
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      figures.push({
        label: `takeover of a ${size.toLocaleString('en-US')}-node shard (checkpoint + ${tailRounds * tailPerRound} changes)`,
        unit: 'ms',
        mean,
        p50,
        p99: sorted.at(-1) as number,
        rme: 0,
        samples: times.length,
        evaluations: size,
        evaluationsPerSecond: (size / p50) * 1000,
      });
      derived.push({
        label: `nodes/s taken over, ${size} nodes`,
        value: (size / p50) * 1000,
        unit: '',
      });
    }
  } finally {
    await nc.close();
    await server.stop();
  }
  const largest = figures.at(-1) as Figure;
  return {
    name: 'shard-takeover',
    ratioOf: `p50 ms to take over the ${sizes.at(-1)}-node shard`,
    figures,
    ratio: largest.p50,
    // Two 1 s ticks: the part of the kill -9 budget (lease + two ticks) a takeover may use.
    budget: { kind: 'at most', value: 2000 },
    meets: largest.p50 <= 2000,
    derived,
  };
}
