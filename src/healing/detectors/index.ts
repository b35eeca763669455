export {
  defaultPhiAccrualOptions,
  type PhiAccrualDetector,
  PhiAccrualState,
  phi,
  phiAccrualDetector,
} from './phi-accrual.js';
export { type TimeoutDetector, TimeoutState, timeoutDetector } from './timeout.js';
export type { FailureDetector, PhiAccrualOptions, TimeoutDetectorOptions } from './types.js';
