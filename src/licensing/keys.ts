import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { InvalidOptionsError } from '../errors.js';
import { show } from '../show.js';
import type { TrustedKey } from './types.js';

/** A new signing key pair, as JWKs that carry their key id (`kid`). */
export interface LicenceKeyPair {
  readonly kid: string;
  /** Keep secret: it signs licences (`wyneos licence issue --key`). */
  readonly privateJwk: JWK;
  /** Give to supervisors: it checks licences (`licensing.keys`, `wyneos serve --licence-key`). */
  readonly publicJwk: JWK;
}

/**
 * Generates an Ed25519 key pair for signing licences. The key id is the public key's RFC 7638
 * thumbprint, so the same key always has the same id and two keys never share one.
 *
 * @example
 * const { kid, privateJwk, publicJwk } = await generateLicenceKeys();
 */
export async function generateLicenceKeys(): Promise<LicenceKeyPair> {
  // Loaded here, not at the top: the supervisor imports this module for trustedKeys, and
  // `import 'wyneos'` must not load jose. This function is async anyway.
  const { calculateJwkThumbprint, exportJWK, generateKeyPair } = await import('jose');
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', {
    crv: 'Ed25519',
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  return {
    kid,
    privateJwk: { ...privateJwk, kid, alg: 'EdDSA', use: 'sig' },
    publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
  };
}

/**
 * The trusted keys as node:crypto key objects by key id, for `checkLicence`: a supervisor
 * builds them once from its `licensing.keys`. A key object verifies synchronously (see
 * verify.ts for why that matters). Throws an `InvalidOptionsError` naming the first bad key.
 *
 * @example
 * const check = checkLicence(token, trustedKeys([publicJwk]), { at: Date.now() });
 */
export function trustedKeys(
  keys: ReadonlyArray<TrustedKey | JWK>,
  path = 'licensing.keys',
): Map<string, KeyObject> {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new InvalidOptionsError(path, 'expected a non-empty array of Ed25519 public keys (JWKs)');
  }
  const byId = new Map<string, KeyObject>();
  keys.forEach((entry, index) => {
    const where = `${path}[${index}]`;
    const isTrusted = typeof entry === 'object' && entry !== null && 'jwk' in entry;
    const jwk = (isTrusted ? (entry as TrustedKey).jwk : entry) as JWK | undefined;
    const kid = isTrusted ? (entry as TrustedKey).kid : jwk?.kid;
    if (typeof kid !== 'string' || kid.length === 0) {
      throw new InvalidOptionsError(where, 'needs a key id: { kid, jwk } or a JWK with a kid');
    }
    if (byId.has(kid)) throw new InvalidOptionsError(where, `key id ${show(kid)} is given twice`);
    if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
      throw new InvalidOptionsError(
        where,
        'expected an Ed25519 public JWK { kty: "OKP", crv: "Ed25519", x }',
      );
    }
    if (jwk.d !== undefined) {
      // A private key in a supervisor's config is a leak waiting to happen: refuse it.
      throw new InvalidOptionsError(
        where,
        'is a private key: give supervisors the public key only',
      );
    }
    try {
      byId.set(
        kid,
        createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' }),
      );
    } catch (error) {
      throw new InvalidOptionsError(where, `is not a valid Ed25519 key (${String(error)})`);
    }
  });
  return byId;
}
