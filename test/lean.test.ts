import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createSupervisor, type Heartbeat, type Metrics, type TickSummary } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import { generateFleet, mulberry32 } from '../bench/fleet.js';
import { LeanFleet, stateNames } from '../bench/lean.js';
import { trivialRules, trivialWyneosRules } from '../bench/trivial-rules.js';

const tickMs = 1000;
const heartbeatTimeoutMs = 3000;
const overload = { high: 0.9, low: 0.7, ticks: 3 };
const nodeCount = 400;
const tickCount = 40;

/** What one node does on each tick: beat or not, and with what load. */
interface Plan {
  /** Ticks [from, to) without a heartbeat; from 1 means it never beat before. */
  readonly silent: readonly [number, number];
  /** Ticks [from, to) at `highLoad`. */
  readonly hot: readonly [number, number];
  readonly highLoad: number;
  readonly load: number;
}

// About 12 % go silent once for 1 to 6 ticks (3 or more is offline, then back), a few of them
// from registration on; about 15 % run hot for 2 to 7 ticks (3 or more is overloaded, then
// back), some exactly at the high mark or at a rule's limit; some calm loads sit exactly at the low mark (which
// recovers) or between the marks (which does not). One episode of each at most, so no node
// flaps and nothing is isolated.
function plan(seed: number): Plan[] {
  const random = mulberry32(seed);
  const int = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  return Array.from({ length: nodeCount }, () => {
    const highDraw = random();
    const silentFrom = random() < 0.1 ? 1 : int(2, tickCount - 10);
    const hotFrom = int(2, tickCount - 12);
    const loadDraw = random();
    return {
      silent: random() < 0.12 ? [silentFrom, silentFrom + int(1, 6)] : [0, 0],
      hot: random() < 0.15 ? [hotFrom, hotFrom + int(2, 7)] : [0, 0],
      // At the high mark, at load-max's limit, or anywhere above the mark.
      highLoad: highDraw < 0.3 ? overload.high : highDraw < 0.4 ? 0.95 : 0.9 + random() * 0.1,
      load:
        loadDraw < 0.1 ? overload.low : loadDraw < 0.25 ? 0.71 + random() * 0.18 : random() * 0.7,
    };
  });
}

const within = (tick: number, [from, to]: readonly [number, number]) => tick >= from && tick < to;

/**
 * The metrics a beat carries: mostly all four (temperature varying, now and then exactly at
 * temp-max's limit), sometimes one short, sometimes none.
 */
function metricsFor(base: Metrics, random: () => number): Metrics | undefined {
  const draw = random();
  if (draw < 0.1) return undefined; // the last ones stay
  const temp = random() < 0.05 ? 85 : 60 + random() * 27;
  const metrics: Record<string, number> = { ...base, temp };
  if (draw < 0.15) delete metrics.queue; // a missing metric counts as 0
  return metrics;
}

function run(seed: number, throughRules: boolean): void {
  const fleet = generateFleet(nodeCount, seed);
  const plans = plan(seed + 1);
  const random = mulberry32(seed + 2);

  const clock = new SimulatedClock();
  const sup = createSupervisor({
    clock,
    logger: pino({ level: 'silent' }),
    rules: trivialWyneosRules,
    tickMs,
    heartbeatTimeoutMs,
    overload,
    safety: { maxIsolatedFraction: 1, partitionFraction: 1 },
  });
  const summaries: TickSummary[] = [];
  sup.ticks$.subscribe((summary) => summaries.push(summary));
  sup.start();
  const lean = new LeanFleet(
    { heartbeatTimeoutMs, overload, ...(throughRules ? { rules: trivialWyneosRules } : {}) },
    64, // grows as it registers
  );

  sup.registerMany(fleet.map((n) => ({ id: n.id, labels: n.labels })));
  for (const n of fleet) lean.register(n.id, clock.now());

  const seen = { online: 0, overloaded: 0, offline: 0 };
  const kinds = new Set<string>();
  let violations = 0;
  for (let tick = 1; tick <= tickCount; tick++) {
    fleet.forEach((node, i) => {
      const p = plans[i];
      if (p === undefined || within(tick, p.silent)) return;
      const metrics = metricsFor(node.metrics, random);
      const beat: Heartbeat = {
        nodeId: node.id,
        seq: tick,
        load: within(tick, p.hot) ? p.highLoad : p.load,
        ...(metrics === undefined ? {} : { metrics }),
      };
      sup.heartbeat(beat);
      lean.heartbeat(beat.nodeId, beat.seq, beat.load, beat.metrics, clock.now());
    });

    clock.increment(tickMs);
    const summary = summaries.at(-1);
    expect(summary?.tick).toBe(tick);
    const leanTick = lean.tick(clock.now());

    const states = Object.fromEntries(sup.nodes().map((n) => [n.id, n.state]));
    const leanStates = Object.fromEntries(
      lean.ids.map((id, slot) => [id, stateNames[lean.state[slot] as number]]),
    );
    expect(leanStates, `tick ${tick}`).toEqual(states);
    expect(leanTick.transitions, `tick ${tick}`).toBe(summary?.transitions);
    expect(leanTick.actions, `tick ${tick}`).toBe(summary?.actions);

    const results = sup.report()?.results ?? [];
    expect(results.every((r) => r.outcome === 'fail')).toBe(true);
    const failures = results.map((r) => `${r.ruleId} ${r.nodeId}`).sort();
    const leanFailures: string[] = [];
    lean.ids.forEach((id, slot) => {
      trivialRules.forEach((rule, r) => {
        if (((lean.broken[slot] as number) & (1 << r)) !== 0) leanFailures.push(`${rule.id} ${id}`);
      });
    });
    expect(leanFailures.sort(), `tick ${tick}`).toEqual(failures);
    expect(leanTick.violations).toBe(failures.length);

    for (const id of lean.ids) {
      const state = leanStates[id] as keyof typeof seen;
      seen[state]++;
    }
    for (const f of failures) kinds.add(f.split(' ')[0] as string);
    violations += leanTick.violations;
  }

  // The scenario did exercise what it compares: every state, every rule failing somewhere.
  expect(seen.offline).toBeGreaterThan(0);
  expect(seen.overloaded).toBeGreaterThan(0);
  expect(kinds.size).toBe(trivialRules.length);
  expect(violations).toBeGreaterThan(0);
  void sup.stop();
}

describe('lean reference', () => {
  it.each([11, 12, 13])(
    'agrees with the supervisor tick by tick on states, transitions, actions and rule failures (seed %i)',
    (seed) => run(seed, false),
  );

  it('agrees with it too when it calls the rules as closures on a node view', () => run(14, true));

  it('writes the same ten trivial rules for the supervisor and the lean loop', () => {
    expect(trivialWyneosRules.map((r) => r.id)).toEqual(trivialRules.map((r) => r.id));
    expect(new Set(trivialRules.map((r) => r.id)).size).toBe(10);
  });

  it('grows its columns and refuses unknown nodes, stale seqs and a second registration', () => {
    const lean = new LeanFleet({ heartbeatTimeoutMs, overload }, 1);
    for (let i = 0; i < 5; i++) lean.register(`n${i}`, 0);
    lean.heartbeat('n4', 1, 0.5, { mem: 0.3 }, 10);
    expect(() => lean.heartbeat('n4', 1, 0.5, undefined, 11)).toThrow(/stale/);
    expect(() => lean.heartbeat('x', 1, 0.5, undefined, 11)).toThrow(/unknown/);
    expect(() => lean.register('n0', 0)).toThrow(/already/);
    expect([lean.size, lean.seq[4], lean.load[4], lean.metrics[0]?.[4]]).toEqual([5, 1, 0.5, 0.3]);
  });
});
