export { type Condition, conditionNames, parseCondition } from './condition.js';
export {
  type OperatorEntry,
  type TraceEntry,
  type TraceHeader,
  traceFormat,
  traceVersion,
} from './format.js';
export { readTrace, type Trace, type TraceDamage } from './reader.js';
export { defaultRecordMaxBytes, type RecordOptions, TraceRecorder } from './recorder.js';
export {
  type ReplayDifference,
  type ReplayOptions,
  type ReplayResult,
  type ReplayStep,
  type RuleCompliance,
  replayTrace,
  type SummaryRow,
} from './replay.js';
export { replayLines } from './report.js';
export type { RuleTally } from './run.js';
