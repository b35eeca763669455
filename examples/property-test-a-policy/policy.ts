/**
 * A team's own rule set for a fleet of GPU workers: the policy the property test checks.
 */
import { defineRule, maxLoad, minVersion, type Policy, requiredLabels } from 'wyneos';

export const gpuFleetPolicy: Policy = {
  version: 'gpu-fleet-7',
  rules: [
    // Old drivers corrupt jobs: isolate the node until it is redeployed.
    minVersion('1.0.0', { severity: 'critical', enforcement: 'isolate' }),
    // Every worker must say where it runs, or the scheduler cannot place work near data.
    requiredLabels(['region', 'zone'], { severity: 'medium', enforcement: 'warn' }),
    // A worker that stays this hot for five ticks gets work moved away.
    maxLoad(0.95, { severity: 'high', enforcement: 'reduce-load', for: 5 }),
    defineRule({
      id: 'memory-headroom',
      description: 'keeps at least 5% memory free',
      severity: 'high',
      enforcement: 'warn',
      evaluate: (node) => (node.metrics.mem ?? 0) < 0.95,
    }),
  ],
};
