export { TrustBook, type TrustSlots } from './book.js';
export { defaultTrust, penalise, resolveTrust, trustAt } from './model.js';
export type {
  TrustEntry,
  TrustExplanation,
  TrustIncidentKind,
  TrustOptions,
  TrustState,
  TrustWeights,
} from './types.js';
