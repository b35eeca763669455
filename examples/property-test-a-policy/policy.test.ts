/**
 * Property tests of the team's policy (policy.ts) with wyneos/testing: for any failure sequence
 * fast-check can think of, the supervisor running this policy keeps every built-in invariant,
 * and the two promises the team makes on top of them. Run it with
 * `npx vitest run examples/property-test-a-policy`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraries } from 'wyneos/arbitraries';
import { defineInvariant, invariants, simulate } from 'wyneos/testing';
import { gpuFleetPolicy } from './policy.js';

// The team's own promise, checked as the run goes: governance never isolates a node running a
// supported version (only healing may isolate those, for flapping or failed probation).
const isolatesOnlyOldSoftware = defineInvariant({
  name: 'governance-isolates-only-old-software',
  description: 'every isolation a rule asks for is for software older than 1.0.0',
  monitor: (_context, violated) => ({
    action: (a) => {
      if (
        a.type === 'isolate' &&
        a.status === 'applied' &&
        a.ruleId !== undefined &&
        a.ruleId !== 'min-version'
      ) {
        violated({ at: a.at, nodeId: a.nodeId, message: `isolated by ${a.ruleId}` });
      }
    },
  }),
});

describe('the GPU fleet policy', () => {
  it('keeps every invariant under any failure sequence', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        arbitraries.failureSequence({ durationMs: 120_000, maxFaults: 6 }),
        async (seed, faults) => {
          const result = await simulate({
            nodes: 30,
            seed,
            durationMs: 120_000,
            faults,
            supervisor: { policy: gpuFleetPolicy },
            invariants: [...Object.values(invariants), isolatesOnlyOldSoftware],
          });
          const broken = result.invariants.filter((i) => !i.holds);
          expect(broken.map((i) => `${i.name}: ${i.examples[0]?.message}`)).toEqual([]);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('catches every redeploy of old software within two ticks, and never isolates a healthy node', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.integer({ min: 1, max: 5 }), async (seed, count) => {
        const result = await simulate({
          nodes: 30,
          seed,
          durationMs: 60_000,
          faults: [{ kind: 'non-compliant', at: 20_000, nodes: count, version: '0.9.0' }],
          supervisor: { policy: gpuFleetPolicy },
        });
        const redeploys = result.incidents.filter((i) => i.kind === 'non-compliant');
        expect(redeploys).toHaveLength(count);
        for (const incident of redeploys) {
          expect(incident.outcome).toBe('detected');
          expect(incident.latencyMs).toBeLessThanOrEqual(2000);
        }
        expect(result.falsePositives.count).toBe(0);
      }),
      { numRuns: 10 },
    );
  });
});
