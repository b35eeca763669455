/**
 * wyneos/testing: a simulated fleet under a real supervisor, seeded faults, invariants and
 * fast-check arbitraries, for testing a fleet and its policies before production.
 * The arbitraries need `fast-check` (a peer dependency) installed beside wyneos.
 */
export { SimulatedClock } from 'xstate';
export {
  type CompliancePoint,
  createSimulatedFleet,
  defaultInvariants,
  defaultSimulationPolicy,
  defineInvariant,
  type Expectation,
  expandFaultMix,
  type FalsePositive,
  type Fault,
  type FaultKind,
  type FaultMixEntry,
  type FaultTargets,
  faultKinds,
  type Incident,
  type Invariant,
  type InvariantContext,
  type InvariantMonitor,
  type InvariantResult,
  invariants,
  type KindDetection,
  type LatencyStats,
  parseDuration,
  parseFaultMix,
  type ResolvedFault,
  SeededRandom,
  type Signal,
  type SimulatedFleet,
  type SimulatedFleetOptions,
  type SimulationProgress,
  type SimulationResult,
  simulate,
  summaryLines,
  type Violation,
} from '../simulation/index.js';

import * as arbitraries from './arbitraries.js';

export {
  type ReplayDifference,
  type ReplayOptions,
  type ReplayResult,
  type ReplayStep,
  type RuleCompliance,
  readTrace,
  replayTrace,
  type SummaryRow,
  type Trace,
  type TraceDamage,
  type TraceEntry,
  type TraceHeader,
} from '../replay/index.js';
export { advanceClock } from './clock.js';
export { createNodeSnapshot } from './node-snapshot.js';
export { arbitraries };
