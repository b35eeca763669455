import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { allowedLabelValues, maxLoad, type Rule, type SafetyOptions } from 'wyneos';
import { SimulatedClock } from 'xstate';
import { type DistributedSupervisor, shardOf } from '../../src/nats/index.js';
import { SimulatedNodes } from './fleet.js';
import { natsPerTest, startSharing } from './per-test.js';
import { eventually, natsServerPath } from './server.js';

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const shards = 6;
// Ticks on a simulated clock, each one asked for: the supervisors decide one after another, each
// once the others' counts are in KV. (Deciding in the same tick, each can overshoot by what it
// isolates in that tick: docs/nats.md, Fleet-wide safety.)
const timing = { tickMs: 60_000, heartbeatTimeoutMs: 90_000, leaseMs: 2000 };

describe.skipIf(natsServerPath === undefined)('nats: fleet-wide safety limits', () => {
  const nats = natsPerTest();

  /** Three supervisors on one simulated clock, two shards each. */
  async function threeSupervisors(rule: Rule, safety: Partial<SafetyOptions>) {
    const clock = new SimulatedClock();
    const options = {
      shards,
      logger,
      policy: { version: 'p-1', rules: [rule] },
      escalation: { baseMs: 3_600_000 },
      safety,
      ...timing,
    };
    const sups = await startSharing(nats, ['a', 'b', 'c'], options, clock);
    return { clock, sups };
  }

  /** `count` node ids named `prefix-<n>` whose shards `sup` holds. */
  const heldBy = (sup: DistributedSupervisor, prefix: string, count: number) =>
    Array.from({ length: 1000 }, (_, i) => `${prefix}-${sup.id}-${i}`)
      .filter((id) => sup.shards().includes(shardOf(id, shards)))
      .slice(0, count);

  const accepted = (sups: readonly DistributedSupervisor[]) =>
    sups.reduce((sum, s) => sum + s.heartbeats.accepted, 0);

  /** Ticks each supervisor in turn, each once the others' counts after their ticks are read. */
  async function tickInTurn(sups: readonly DistributedSupervisor[]) {
    const summaries = [];
    for (const sup of sups) {
      await sup.refreshPeers();
      summaries.push(sup.supervisor.tick());
      await sup.supervisor.durable();
    }
    return summaries;
  }

  it('holds isolations at the fleet-wide cap when each supervisor alone would stay under it', async () => {
    // 60 nodes, 20 on each supervisor, 8 of them bad: a cap of 20% lets 12 be isolated. Each
    // supervisor's 8 are under the cap, and counting only its own isolations each would
    // isolate all 8: 24 in the fleet.
    const { sups } = await threeSupervisors(
      allowedLabelValues('tier', ['good'], { enforcement: 'isolate' }),
      { maxIsolatedFraction: 0.2 },
    );
    const held: string[] = [];
    for (const sup of sups) {
      sup.supervisor.actions$.subscribe((action) => {
        if (action.heldBy === 'maxIsolatedFraction') held.push(action.nodeId);
      });
      await new SimulatedNodes(
        nats.nc,
        [...heldBy(sup, 'good', 12), ...heldBy(sup, 'bad', 8)],
        shards,
      ).register();
    }
    await tickInTurn(sups);
    const isolated = sups.flatMap((s) =>
      s.supervisor.nodes().filter((n) => n.state === 'isolated'),
    );
    expect(isolated.length).toBe(12);
    expect(new Set(held).size).toBe(12);
    expect(sups[2]?.supervisor.nodes().filter((n) => n.state === 'isolated')).toEqual([]);
  });

  it('stops isolations fleet-wide when 60% of the nodes, spread over every supervisor, go silent', async () => {
    const { clock, sups } = await threeSupervisors(maxLoad(0.9, { enforcement: 'isolate' }), {
      maxIsolatedFraction: 0.5,
    });
    const [a, b, c] = sups as [DistributedSupervisor, DistributedSupervisor, DistributedSupervisor];
    // 60 nodes; silent: 18 on a, 16 on b, 2 on c (36, 60% of the fleet). Alone, c sees 10% of
    // its nodes lost, no partition, and would isolate its 4 hot nodes.
    const silent = [...heldBy(a, 's', 18), ...heldBy(b, 's', 16), ...heldBy(c, 's', 2)];
    const live = [...heldBy(a, 'l', 2), ...heldBy(b, 'l', 4), ...heldBy(c, 'l', 14)];
    const hot = heldBy(c, 'hot', 4);
    const all = new SimulatedNodes(nats.nc, [...silent, ...live, ...hot], shards);
    await all.register();
    all.beat(0.3);
    await eventually(
      () => accepted(sups),
      (n) => n === 60,
    );
    clock.increment(50_000);
    for (const sup of sups) sup.supervisor.tick();
    new SimulatedNodes(nats.nc, live, shards).beat(0.3);
    new SimulatedNodes(nats.nc, hot, shards).beat(0.99);
    await eventually(
      () => accepted(sups),
      (n) => n === 60 + 24,
    );
    const guarded: string[] = [];
    c.supervisor.actions$.subscribe((action) => {
      if (action.heldBy === 'partitionGuard') guarded.push(action.nodeId);
    });
    clock.increment(45_000);
    const [, , summary] = await tickInTurn([a, b, c]);
    expect(summary?.degraded).toContain('partition');
    expect(c.supervisor.nodes().filter((n) => n.state === 'isolated')).toEqual([]);
    expect(new Set(guarded)).toEqual(new Set(hot));
    expect(c.peerCounts().recentlyOffline).toBe(34);
  });
});
