/**
 * wyneos/testing: a simulated fleet under a real supervisor, seeded faults and invariants, for
 * testing a fleet and its policies before production. It does not load fast-check: the
 * arbitraries are `wyneos/arbitraries`, which needs it (a peer dependency).
 */
export { SimulatedClock } from 'xstate';
export {
  type OperatorEntry,
  type ReplayDifference,
  type ReplayOptions,
  type ReplayResult,
  type ReplayStep,
  type RuleCompliance,
  type RuleTally,
  readTrace,
  replayTrace,
  type SummaryRow,
  type Trace,
  type TraceDamage,
  type TraceEntry,
  type TraceHeader,
} from '../replay/index.js';
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
  type FaultStart,
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
export { advanceClock } from '../testing/clock.js';
export { createNodeSnapshot } from '../testing/node-snapshot.js';
