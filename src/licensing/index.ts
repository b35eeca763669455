export { issueLicence, type LicenceRequest } from './issue.js';
export { generateLicenceKeys, type LicenceKeyPair, trustedKeys } from './keys.js';
export { LicenceBook, type LicenceCandidate, type LicenceTick } from './licence-book.js';
export { defaultLicensing, type ResolvedLicensing, resolveLicensing } from './options.js';
export { RevocationList } from './revocations.js';
export type {
  Licence,
  LicenceEvent,
  LicenceRefusal,
  LicenceStatus,
  LicenceSubject,
  LicensingOptions,
  NodeLicence,
  Revocation,
  TrustedKey,
} from './types.js';
export { licenceRefusals } from './types.js';
export { checkLicence, type LicenceCheck, type LicenceCheckContext } from './verify.js';
