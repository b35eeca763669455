export { type CommandHookOptions, type CommandResult, commandHook } from './command-hook.js';
export {
  type FailureDetector,
  type PhiAccrualOptions,
  phiAccrualDetector,
  timeoutDetector,
} from './detectors/index.js';
export {
  type EscalationOptions,
  escalate,
  FlapCounter,
  type FlappingOptions,
} from './escalation.js';
export {
  type ActionHook,
  defaultHookPolicy,
  type HookContext,
  type HookOutcome,
  type HookPolicy,
  resolveHookPolicy,
  runHook,
} from './hooks.js';
export { mergeProposals } from './merge-proposals.js';
export { OverloadStreaks } from './overload-streaks.js';
export { planHealing } from './plan.js';
export {
  type FleetCondition,
  SafetyGuard,
  type SafetyOptions,
  type SafetyReview,
} from './safety.js';
export { LoadTrends, type PredictiveOptions, Trend } from './trend.js';
export type { HealingOptions, HealingPlan, OverloadOptions } from './types.js';
