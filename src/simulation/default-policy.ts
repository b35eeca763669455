import { heartbeatFresh, minVersion, type Policy, requiredLabels } from '../governance/index.js';
import type { Labels } from '../types.js';

const regions = ['eu', 'us'] as const;
const zones = ['a', 'b', 'c'] as const;

/** The labels and version of simulated node `index` when the caller gives none. */
export function defaultIdentity(index: number): { labels: Labels; version: string } {
  return {
    labels: { region: regions[index % 2] as string, zone: zones[index % 3] as string },
    version: '1.4.2',
  };
}

/**
 * The policy a simulation runs when none is given: enough to see governance at work on the
 * faults the simulator injects (a redeploy of old software is isolated, missing labels warn).
 */
export function defaultSimulationPolicy(): Policy {
  return {
    version: 'simulation-default',
    rules: [
      minVersion('1.0.0', { severity: 'critical', enforcement: 'isolate' }),
      requiredLabels(['region', 'zone'], { severity: 'medium', enforcement: 'warn' }),
      heartbeatFresh(60_000, { severity: 'low' }),
    ],
  };
}
