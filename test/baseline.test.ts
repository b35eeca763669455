import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createSupervisor, type Heartbeat, type NodeState, type TickSummary } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import { BaselineFleet } from '../bench/baseline.js';
import { generateFleet, mulberry32 } from '../bench/fleet.js';
import { ruleIds, wyneosRules } from '../bench/ten-rules.js';

const tickMs = 1000;
const heartbeatTimeoutMs = 3000;
const overload = { high: 0.9, low: 0.7, ticks: 3 };
const nodeCount = 400;
const tickCount = 40;

/** What one node does on each tick of the scenario: beat or not, and with what load. */
interface Plan {
  /** Ticks [from, to) without a heartbeat. */
  readonly silent: readonly [number, number];
  /** Ticks [from, to) at `highLoad`. */
  readonly hot: readonly [number, number];
  readonly highLoad: number;
  readonly load: number;
}

// About 10 % go silent once (for 1 to 6 ticks: 3 or more is offline), about 15 % run hot once
// (2 to 7 ticks: 3 or more is overloaded), some at a load between the marks, which must not
// recover; some exactly at a mark. Otherwise loads stay under the high mark. One episode of each at most per node,
// so nobody flaps.
function plan(seed: number): Plan[] {
  const random = mulberry32(seed);
  const int = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  return Array.from({ length: nodeCount }, () => {
    const silentFrom = int(2, tickCount - 10);
    const hotFrom = int(2, tickCount - 12);
    const loadDraw = random();
    return {
      silent: random() < 0.1 ? [silentFrom, silentFrom + int(1, 6)] : [0, 0],
      hot: random() < 0.15 ? [hotFrom, hotFrom + int(2, 7)] : [0, 0],
      highLoad: random() < 0.3 ? 0.9 : 0.9 + random() * 0.1,
      load:
        loadDraw < 0.1 ? overload.low : loadDraw < 0.25 ? 0.71 + random() * 0.18 : random() * 0.7,
    };
  });
}

const within = (tick: number, [from, to]: readonly [number, number]) => tick >= from && tick < to;

describe('baseline', () => {
  it('agrees with wyneos tick by tick on node states, transitions, actions and rule failures', () => {
    const fleet = generateFleet(nodeCount, 11);
    const plans = plan(7);
    const random = mulberry32(3);

    const clock = new SimulatedClock();
    const sup = createSupervisor({
      clock,
      logger: pino({ level: 'silent' }),
      rules: wyneosRules,
      tickMs,
      heartbeatTimeoutMs,
      overload,
      safety: { maxIsolatedFraction: 1, partitionFraction: 1 },
    });
    const summaries: TickSummary[] = [];
    sup.ticks$.subscribe((summary) => summaries.push(summary));
    sup.start();
    const baseline = new BaselineFleet({ heartbeatTimeoutMs, overload });

    sup.registerMany(
      fleet.map((n) => ({
        id: n.id,
        labels: n.labels,
        ...(n.version === undefined ? {} : { version: n.version }),
      })),
    );
    for (const n of fleet) baseline.register(n.id, n.labels, n.version, clock.now());

    const seen: Record<NodeState, number> = { online: 0, overloaded: 0, offline: 0, isolated: 0 };
    let transitions = 0;
    for (let tick = 1; tick <= tickCount; tick++) {
      // Heartbeats arrive during the tick before; both sides get the same objects.
      fleet.forEach((node, i) => {
        const p = plans[i];
        if (p === undefined || within(tick, p.silent)) return;
        const beat: Heartbeat = {
          nodeId: node.id,
          seq: tick,
          load: within(tick, p.hot) ? p.highLoad : p.load,
          // Now and then a heartbeat without metrics: the last ones stay.
          ...(random() < 0.1 ? {} : { metrics: { ...node.metrics, temp: 60 + random() * 27 } }),
        };
        sup.heartbeat(beat);
        baseline.heartbeat(beat, clock.now());
      });

      clock.increment(tickMs);
      const summary = summaries.at(-1);
      expect(summary?.tick).toBe(tick);
      const byHand = baseline.tick(clock.now());

      const states = Object.fromEntries(sup.nodes().map((n) => [n.id, n.state]));
      expect(states, `tick ${tick}`).toEqual(
        Object.fromEntries(baseline.nodes.map((n) => [n.id, n.state])),
      );
      expect(summary?.transitions, `tick ${tick}`).toBe(byHand.transitions);
      expect(summary?.actions, `tick ${tick}`).toBe(byHand.actions);
      const fails = Object.fromEntries(sup.report()?.rules.map((r) => [r.ruleId, r.fail]) ?? []);
      expect(fails, `tick ${tick}`).toEqual(
        Object.fromEntries(ruleIds.map((id, r) => [id, byHand.report.fail[r]])),
      );
      for (const n of baseline.nodes) seen[n.state]++;
      transitions += byHand.transitions;
    }

    // The scenario did exercise what it compares.
    expect(seen.offline).toBeGreaterThan(0);
    expect(seen.overloaded).toBeGreaterThan(0);
    expect(transitions).toBeGreaterThan(60);
    expect(baseline.nodes.every((n) => n.state === 'online' || n.state === 'overloaded')).toBe(
      true,
    );
  });

  it('refuses the heartbeats the schema refuses', () => {
    const baseline = new BaselineFleet({ heartbeatTimeoutMs, overload });
    baseline.register('a', {}, undefined, 0);
    const refused = [
      null,
      { nodeId: 'a', seq: 1 },
      { nodeId: 'a', seq: 1.5, load: 0.1 },
      { nodeId: 'a', seq: 1, load: 1.1 },
      { nodeId: 'a', seq: 1, load: Number.NaN },
      { nodeId: 'a', seq: 1, load: 0.1, metrics: { mem: Number.POSITIVE_INFINITY } },
      { nodeId: 'a', seq: 1, load: 0.1, extra: true },
      { nodeId: 'b', seq: 1, load: 0.1 },
    ];
    for (const beat of refused) expect(() => baseline.heartbeat(beat, 0)).toThrow();
    baseline.heartbeat({ nodeId: 'a', seq: 1, load: 0.1, metrics: { mem: 0.2 } }, 5);
    expect(() => baseline.heartbeat({ nodeId: 'a', seq: 1, load: 0.1 }, 6)).toThrow(/stale/);
    expect(baseline.nodes[0]).toMatchObject({ seq: 1, load: 0.1, lastHeartbeatAt: 5 });
  });
});
