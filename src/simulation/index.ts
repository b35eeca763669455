export { formatDuration, parseDuration } from '../duration.js';
export { defaultIdentity, defaultSimulationPolicy } from './default-policy.js';
export { expandFaultMix, type FaultMixEntry, parseFaultMix } from './fault-mix.js';
export {
  type Expectation,
  type Fault,
  type FaultKind,
  type FaultStart,
  type FaultTargets,
  faultKinds,
  type ResolvedFault,
} from './faults.js';
export {
  createSimulatedFleet,
  type SimulatedFleet,
  type SimulatedFleetOptions,
  type SimulationProgress,
  simulate,
} from './fleet.js';
export type { FalsePositive, Incident, Signal } from './ground-truth.js';
export { loadInvariantModule } from './invariant-module.js';
export {
  defaultInvariants,
  defineInvariant,
  type Invariant,
  type InvariantContext,
  type InvariantMonitor,
  invariants,
  type Violation,
} from './invariants.js';
export { SeededRandom } from './random.js';
export type {
  CompliancePoint,
  InvariantResult,
  KindDetection,
  LatencyStats,
  SimulationResult,
} from './result.js';
export { summaryLines } from './summary.js';
