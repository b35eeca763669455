import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { InvalidArgumentError } from '../errors.js';
import { selectorProblem } from '../governance/index.js';
import type { LicenceSubject } from './types.js';

/** What `issueLicence` signs. Times are ms since the epoch. */
export interface LicenceRequest {
  /** The private JWK from `generateLicenceKeys` (with its `kid`). */
  readonly privateJwk: JWK;
  readonly subject: LicenceSubject;
  readonly expiresAt: number;
  /** Default: now. */
  readonly notBefore?: number;
  /** Default: `wyneos`. */
  readonly issuer?: string;
  /** Default: a random UUID. */
  readonly id?: string;
  readonly features?: readonly string[];
  readonly maxNodes?: number;
  readonly regions?: readonly string[];
}

/**
 * Signs a licence: a JWT with EdDSA (Ed25519), made with jose. Claims: `jti` (the id revocation
 * names), `iss`, `sub` (a node id) or `sel` (a label selector, for a fleet licence), `nbf`,
 * `exp`, `iat`, `features`, and the constraints `maxNodes` and `regions`.
 *
 * @example
 * const token = await issueLicence({
 *   privateJwk,
 *   subject: { node: 'node-7' },
 *   expiresAt: Date.now() + 30 * 86_400_000,
 *   features: ['gpu'],
 * });
 */
export async function issueLicence(request: LicenceRequest): Promise<string> {
  const { privateJwk, subject, expiresAt } = request;
  if (typeof privateJwk?.kid !== 'string' || typeof privateJwk.d !== 'string') {
    throw new InvalidArgumentError('private key', 'expected a private Ed25519 JWK with a kid');
  }
  const notBefore = request.notBefore ?? Date.now();
  if (!Number.isFinite(expiresAt) || !(expiresAt > notBefore)) {
    throw new InvalidArgumentError('expiresAt', 'must be a time after notBefore');
  }
  if ('selector' in subject) {
    const problem = selectorProblem(subject.selector);
    if (problem !== undefined) throw new InvalidArgumentError('selector', problem);
  } else if (typeof subject.node !== 'string' || subject.node.length === 0) {
    throw new InvalidArgumentError('node', 'expected a node id');
  }
  if (
    request.maxNodes !== undefined &&
    !(Number.isSafeInteger(request.maxNodes) && request.maxNodes > 0)
  ) {
    throw new InvalidArgumentError('maxNodes', 'expected a positive integer');
  }
  const claims = {
    jti: request.id ?? randomUUID(),
    iss: request.issuer ?? 'wyneos',
    ...('node' in subject ? { sub: subject.node } : { sub: 'selector', sel: subject.selector }),
    nbf: Math.floor(notBefore / 1000),
    exp: Math.floor(expiresAt / 1000),
    iat: Math.floor(Date.now() / 1000),
    features: [...(request.features ?? [])],
    ...(request.maxNodes === undefined ? {} : { maxNodes: request.maxNodes }),
    ...(request.regions === undefined ? {} : { regions: [...request.regions] }),
  };
  // Loaded on first use so that `import 'wyneos'` (which checks licences, never signs) does not
  // load jose; signing is async anyway.
  const { importJWK, SignJWT } = await import('jose');
  const key = await importJWK(privateJwk, 'EdDSA');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: privateJwk.kid, typ: 'JWT' })
    .sign(key);
}
