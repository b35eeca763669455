import { describe, expect, it } from 'vitest';
import { type ActionRecord, InvalidOptionsError, type NodeTransition } from 'wyneos';
import { createSimulatedFleet } from 'wyneos/testing';
import { Trend } from '../src/healing/index.js';
import { collect, silentLogger, simulatedSupervisor } from './helpers.js';

describe('predictive', () => {
  it('fits a least-squares line over the window', () => {
    const trend = new Trend(4);
    for (const y of [0.1, 0.2, 0.3, 0.4, 0.5]) trend.add(y);
    expect(trend.fit()?.slope).toBeCloseTo(0.1);
    expect(trend.fit()?.latest).toBeCloseTo(0.5);
    expect(trend.samplesUntil(0.9)).toBeCloseTo(4);
    trend.reset();
    for (const y of [0.5, 0.4, 0.3]) trend.add(y);
    expect(trend.samplesUntil(0.9)).toBeUndefined();
  });

  it('asks a node whose load ramps up to reduce load before it crosses the overload mark, once', () => {
    const { sup, advance } = simulatedSupervisor({
      overload: { high: 0.9, low: 0.7, ticks: 2 },
      predictive: { windowTicks: 5, horizonMs: 5000 },
      heartbeatTimeoutMs: 5000,
    });
    sup.registerMany([{ id: 'ramp' }, { id: 'flat' }]);
    const records = collect(sup.actions$);
    const transitions = collect(sup.transitions$);
    const loads: number[] = [];
    for (let t = 0; t < 25; t++) {
      const load = Math.min(0.99, 0.3 + 0.03 * t);
      loads.push(load);
      sup.heartbeat({ nodeId: 'ramp', seq: t, load });
      sup.heartbeat({ nodeId: 'flat', seq: t, load: 0.5 });
      advance(1000);
    }
    const actions = records.filter((a: ActionRecord) => a.status === 'applied');
    const reduce = actions.filter((a) => a.type === 'reduce-load' && a.nodeId === 'ramp');
    expect(reduce.map((a) => a.predictive === true)).toEqual([true, false]);
    const [predicted, reactive] = reduce as [ActionRecord, ActionRecord];
    expect(predicted.reason).toMatch(/^predictive: load 0\.\d+ rising 0\.030 a tick/);
    const overloaded = transitions.find(
      (t: NodeTransition) => t.to === 'overloaded',
    ) as NodeTransition;
    expect(predicted.at).toBeLessThan(overloaded.at);
    expect(reactive.at).toBe(overloaded.at);
    // Before the load itself reached the mark.
    expect(loads[predicted.tick - 1]).toBeLessThan(0.9);
    expect(actions.filter((a) => a.nodeId === 'flat')).toEqual([]);
  });

  it('comes before the overload in a simulated load ramp', async () => {
    const fleet = createSimulatedFleet({
      nodes: 20,
      seed: 3,
      faults: [
        { kind: 'overload', at: 10_000, nodes: ['node-0007'], durationMs: 60_000, rampMs: 20_000 },
      ],
      supervisor: {
        logger: silentLogger,
        overload: { high: 0.9, low: 0.7, ticks: 3 },
        predictive: { windowTicks: 5, horizonMs: 8000 },
      },
    });
    const actions = collect(fleet.supervisor.actions$);
    const transitions = collect(fleet.supervisor.transitions$);
    fleet.advance(60_000);
    const first = actions.find((a) => a.nodeId === 'node-0007' && a.type === 'reduce-load');
    const overloaded = transitions.find((t) => t.nodeId === 'node-0007' && t.to === 'overloaded');
    expect(first?.predictive).toBe(true);
    expect(overloaded).toBeDefined();
    expect(first?.at).toBeLessThan(overloaded?.at as number);
    expect(fleet.result().invariants.filter((i) => !i.holds)).toEqual([]);
    await fleet.stop();
  });

  it('refuses a window too short to fit a line', () => {
    expect(() => simulatedSupervisor({ predictive: { windowTicks: 1 } })).toThrow(
      InvalidOptionsError,
    );
  });
});
