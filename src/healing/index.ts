export { OverloadStreaks } from './overload-streaks.js';
export { planHealing } from './plan.js';
export {
  type FleetCondition,
  SafetyGuard,
  type SafetyOptions,
  type SafetyReview,
} from './safety.js';
export type { HealingOptions, HealingPlan, OverloadOptions } from './types.js';
