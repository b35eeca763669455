import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSupervisor } from 'wyneos';
import { arbitraries } from 'wyneos/arbitraries';
import { simulate } from 'wyneos/testing';
import { silentLogger } from './helpers.js';

describe('simulation (properties)', () => {
  it('keeps every invariant for any failure sequence against any policy of built-in rules', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraries.scenario({ maxNodes: 20, maxDurationMs: 90_000 }),
        async (scenario) => {
          const result = await simulate(scenario);
          const broken = result.invariants.filter((i) => !i.holds);
          expect(broken, JSON.stringify(broken.map((i) => i.examples[0]))).toEqual([]);
          // Ground truth and the supervisor's own bookkeeping agree on the fleet's size.
          const states = Object.values(result.finalStates).reduce((a, b) => a + b, 0);
          expect(states).toBe(result.nodes - result.admissions.refused);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('replays any scenario to the same result', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraries.scenario({ maxNodes: 10, maxDurationMs: 30_000 }),
        async (scenario) => {
          const [a, b] = [await simulate(scenario), await simulate(scenario)];
          expect(JSON.stringify(a)).toBe(JSON.stringify(b));
        },
      ),
      { numRuns: 10 },
    );
  });

  it('generates registrations, heartbeats and policies the supervisor accepts', () => {
    fc.assert(
      fc.property(
        arbitraries.node(),
        fc.array(arbitraries.heartbeat({ nodeId: fc.constant('x') }), { maxLength: 5 }),
        arbitraries.policy(),
        (registration, beats, policy) => {
          const sup = createSupervisor({ logger: silentLogger, policy });
          sup.register(registration);
          let seq = 0;
          for (const beat of beats) {
            seq += beat.seq + 1;
            sup.heartbeat({ ...beat, nodeId: registration.id, seq });
          }
          expect(sup.node(registration.id)?.seq).toBe(beats.length === 0 ? undefined : seq);
          void sup.stop();
        },
      ),
      { numRuns: 200 },
    );
  });
});
