import { type KeyObject, verify as verifySignature } from 'node:crypto';
import type { LabelSelector } from '../governance/index.js';
import { matchesSelector, selectorProblem } from '../governance/index.js';
import type { Labels } from '../types.js';
import type { Licence, LicenceRefusal, LicenceSubject } from './types.js';

/** A licence that passed, or why it did not. */
export type LicenceCheck =
  | { readonly ok: true; readonly licence: Licence }
  | { readonly ok: false; readonly reason: LicenceRefusal; readonly message: string };

/** What a licence is checked against. */
export interface LicenceCheckContext {
  /** Now, on the supervisor's clock (ms). */
  readonly at: number;
  /** Accept only this issuer. */
  readonly issuer?: string;
  /** The node presenting it, when one does: checked against the subject and regions. */
  readonly node?: { readonly id: string; readonly labels: Labels };
  /** Skip the validity window (a restart re-checks the signature; the tick checks the times). */
  readonly ignoreTime?: boolean;
}

const maxTokenLength = 8192;

/**
 * Checks a licence token: shape, key id, Ed25519 signature, issuer, validity window, and (for a
 * node presenting it) subject and region. Synchronous on purpose: `register()` and the tick are
 * synchronous, and jose's verifiers are asynchronous (WebCrypto), so the signature is checked
 * with node:crypto, which verifies Ed25519 synchronously.
 */
export function checkLicence(
  token: unknown,
  keys: ReadonlyMap<string, KeyObject>,
  ctx: LicenceCheckContext,
): LicenceCheck {
  if (typeof token !== 'string' || token.length === 0) {
    return refuse('missing', 'no licence was presented');
  }
  const parts = token.length > maxTokenLength ? [] : token.split('.');
  if (parts.length !== 3)
    return refuse('malformed', 'not a compact JWT (header.payload.signature)');
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodePart(parts[0] as string, 'header');
    claims = decodePart(parts[1] as string, 'payload');
  } catch (error) {
    return refuse('malformed', `cannot be decoded: ${(error as Error).message}`);
  }
  // Only EdDSA: never `none`, never an HMAC whose "secret" could be our public key.
  if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') {
    return refuse('malformed', `must be signed with EdDSA, not ${String(header.alg)}`);
  }
  const key = typeof header.kid === 'string' ? keys.get(header.kid) : undefined;
  if (key === undefined) {
    return refuse(
      'unknown-key',
      `signed with key ${JSON.stringify(header.kid)}, which is not trusted`,
    );
  }
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2] as string, 'base64url');
  if (!verifySignature(null, signed, key, signature)) {
    return refuse(
      'bad-signature',
      'the signature does not match: forged, or changed after signing',
    );
  }
  const parsed = licenceFromClaims(claims, header.kid as string);
  if (typeof parsed === 'string') return refuse('malformed', parsed);
  if (ctx.issuer !== undefined && parsed.issuer !== ctx.issuer) {
    return refuse(
      'wrong-issuer',
      `issued by ${JSON.stringify(parsed.issuer)}, not ${JSON.stringify(ctx.issuer)}`,
    );
  }
  if (ctx.ignoreTime === true) return { ok: true, licence: parsed };
  if (ctx.at < parsed.notBefore) {
    return refuse('not-yet-valid', `valid from ${new Date(parsed.notBefore).toISOString()}`);
  }
  if (ctx.at >= parsed.expiresAt) {
    return refuse('expired', `expired at ${new Date(parsed.expiresAt).toISOString()}`);
  }
  if (ctx.node !== undefined) {
    const problem = subjectProblem(parsed, ctx.node);
    if (problem !== undefined) return refuse(problem.reason, problem.message);
  }
  return { ok: true, licence: parsed };
}

/** Whether a licence may be held by this node: its subject, then its allowed regions. */
export function subjectProblem(
  licence: Licence,
  node: { readonly id: string; readonly labels: Labels },
): { reason: LicenceRefusal; message: string } | undefined {
  const { subject } = licence;
  if (
    'node' in subject ? subject.node !== node.id : !matchesSelector(subject.selector, node.labels)
  ) {
    const whom =
      'node' in subject
        ? `node ${subject.node}`
        : `nodes matching ${JSON.stringify(subject.selector)}`;
    return {
      reason: 'wrong-node',
      message: `licence ${licence.id} is for ${whom}, not ${node.id}`,
    };
  }
  if (licence.regions !== undefined) {
    const region = node.labels.region;
    if (region === undefined || !licence.regions.includes(region)) {
      return {
        reason: 'region',
        message: `region ${JSON.stringify(region ?? null)} is not one of ${licence.regions.join(', ')}`,
      };
    }
  }
  return undefined;
}

/**
 * One base64url JSON object of a compact JWT. Decoded here rather than with jose so that the
 * supervisor, which checks licences at registration, never loads jose: only signing and key
 * generation (wyneos/licensing, the CLI) need it. The signature is what makes a token
 * trustworthy, and node:crypto checks it; this only reads the JSON.
 */
function decodePart(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new Error(`the ${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`the ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function refuse(reason: LicenceRefusal, message: string): LicenceCheck {
  return { ok: false, reason, message };
}

/** The claims as a Licence, or what is wrong with them. JWT times are seconds. */
function licenceFromClaims(claims: Record<string, unknown>, keyId: string): Licence | string {
  const { jti, iss, sub, sel, nbf, exp, features, maxNodes, regions } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
    return 'jti: expected a licence id';
  if (typeof iss !== 'string') return 'iss: expected the issuer';
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'exp: expected an expiry';
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf)))
    return 'nbf: expected a time';
  if (!isStrings(features ?? [])) return 'features: expected a list of feature names';
  if (regions !== undefined && !isStrings(regions)) return 'regions: expected a list of regions';
  if (maxNodes !== undefined && !(Number.isSafeInteger(maxNodes) && (maxNodes as number) > 0)) {
    return 'maxNodes: expected a positive integer';
  }
  let subject: LicenceSubject;
  if (sel !== undefined) {
    const problem = selectorProblem(sel);
    if (problem !== undefined) return `sel: ${problem}`;
    subject = { selector: sel as LabelSelector };
  } else if (typeof sub === 'string' && sub.length > 0) {
    subject = { node: sub };
  } else return 'sub: expected a node id (or sel, a label selector)';
  return {
    id: jti,
    keyId,
    issuer: iss,
    subject,
    notBefore: typeof nbf === 'number' ? nbf * 1000 : Number.NEGATIVE_INFINITY,
    expiresAt: exp * 1000,
    features: (features ?? []) as string[],
    ...(maxNodes === undefined ? {} : { maxNodes: maxNodes as number }),
    ...(regions === undefined ? {} : { regions: regions as string[] }),
  };
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length <= 256);
}
