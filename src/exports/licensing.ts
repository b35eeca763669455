/**
 * wyneos/licensing: signing keys, licence issuing and checking. A supervisor checks licences
 * itself (`licensing` in its options); this is for the side that issues them, or checks one
 * outside a supervisor. jose is loaded on the first key generation or signing.
 */
export { issueLicence, type LicenceRequest } from '../licensing/issue.js';
export { generateLicenceKeys, type LicenceKeyPair, trustedKeys } from '../licensing/keys.js';
export type {
  Licence,
  LicenceRefusal,
  LicenceSubject,
  TrustedKey,
} from '../licensing/types.js';
export { licenceRefusals } from '../licensing/types.js';
export { checkLicence, type LicenceCheck, type LicenceCheckContext } from '../licensing/verify.js';
