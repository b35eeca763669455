import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ActionRecord, defineRule, type NodeTransition } from 'wyneos';
import { collect, simulatedSupervisor } from './helpers.js';

/** One tick of a random failure sequence: what each node does, and what the operator does. */
const tickStep = (nodes: number) =>
  fc.record({
    behaviour: fc.array(fc.constantFrom('ok', 'bad', 'hot', 'silent'), {
      minLength: nodes,
      maxLength: nodes,
    }),
    operator: fc.option(
      fc.record({
        kind: fc.constantFrom('isolate', 'reinstate'),
        node: fc.nat({ max: nodes - 1 }),
      }),
      { freq: 4 },
    ),
  });

const scenario = fc.integer({ min: 2, max: 12 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    cap: fc.double({ min: 0, max: 1, noNaN: true }),
    steps: fc.array(tickStep(nodes), { minLength: 1, maxLength: 25 }),
  }),
);

function run({ nodes, cap, steps }: Scenario) {
  const f = simulatedSupervisor({
    rules: [
      defineRule({
        id: 'no-bad',
        description: 'the bad metric is 0',
        enforcement: 'isolate',
        evaluate: (n) => n.metrics.bad !== 1,
      }),
    ],
    overload: { high: 0.9, low: 0.5, ticks: 1 },
    safety: { maxIsolatedFraction: cap },
  });
  const transitions = collect<NodeTransition>(f.sup.transitions$);
  const records = collect<ActionRecord>(f.sup.actions$);
  const ids = Array.from({ length: nodes }, (_, i) => `n${i}`);
  f.sup.registerMany(ids.map((id) => ({ id })));
  /** Every node does what the step says: beats (bad, hot or fine) or stays silent. */
  const beat = (behaviour: readonly string[], seq: number) => {
    behaviour.forEach((b, i) => {
      if (b === 'silent') return;
      const nodeId = ids[i] as string;
      const metrics = { bad: b === 'bad' ? 1 : 0 };
      f.sup.heartbeat({ nodeId, seq, load: b === 'hot' ? 0.95 : 0.2, metrics });
    });
  };
  return { f, ids, transitions, records, steps, nodes, cap, beat };
}

interface Scenario {
  nodes: number;
  cap: number;
  steps: Array<{
    behaviour: string[];
    operator: { kind: 'isolate' | 'reinstate'; node: number } | null;
  }>;
}

describe('safety properties', () => {
  it('automatic isolation never takes the fleet past maxIsolatedFraction', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const { f, steps, nodes, cap, beat } = run({
          ...input,
          steps: input.steps.map((s) => ({ ...s, operator: null })),
        });
        const maxIsolated = Math.max(1, Math.floor(nodes * cap));
        steps.forEach((step, seq) => {
          beat(step.behaviour, seq + 1);
          f.advance(1000);
          const isolated = f.sup.nodes().filter((n) => n.state === 'isolated').length;
          expect(isolated).toBeLessThanOrEqual(maxIsolated);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('an isolated node leaves isolation only by reinstatement', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const { f, ids, steps, transitions, records, beat } = run(input);
        steps.forEach((step, seq) => {
          beat(step.behaviour, seq + 1);
          if (step.operator !== null) {
            const nodeId = ids[step.operator.node] as string;
            if (step.operator.kind === 'isolate') f.sup.isolate(nodeId);
            else f.sup.reinstate(nodeId);
          }
          f.advance(1000);
        });
        for (const t of transitions.filter((t) => t.from === 'isolated')) {
          expect(t.to).toBe('online');
          const reinstated = records.some(
            (r) =>
              r.type === 'reinstate' &&
              r.status === 'applied' &&
              r.nodeId === t.nodeId &&
              r.at === t.at,
          );
          expect(reinstated).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
