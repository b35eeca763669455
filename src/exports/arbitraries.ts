/**
 * wyneos/arbitraries: fast-check arbitraries for nodes, heartbeats, policies, faults and whole
 * scenarios, to property-test a policy with `simulate` from wyneos/testing. Needs `fast-check`
 * (a peer dependency) installed beside wyneos; wyneos/testing does not.
 *
 * @example
 * import { arbitraries } from 'wyneos/arbitraries';
 * await fc.assert(
 *   fc.asyncProperty(arbitraries.scenario({ maxNodes: 20 }), async (scenario) => {
 *     const result = await simulate(scenario);
 *     expect(result.invariants.filter((i) => !i.holds)).toEqual([]);
 *   }),
 * );
 */
import * as arbitraries from '../testing/arbitraries.js';

export { arbitraries };
