export { OverloadStreaks } from './overload-streaks.js';
export { planHealing } from './plan.js';
export type { HealingOptions, HealingPlan, OverloadOptions } from './types.js';
