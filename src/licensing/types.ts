import type { JWK } from 'jose';
import type { LabelSelector } from '../governance/index.js';

/**
 * Why a licence was refused at admission, or why a licensed node is gated later. One code,
 * `WYNEOS_ERR_LICENCE_REFUSED`, carries one of these as its `reason` (docs/errors.md lists
 * them, and a test keeps the two in step).
 */
export type LicenceRefusal =
  /** Licensing is required and the node presented none. */
  | 'missing'
  /** Not a compact JWS, not EdDSA, or claims of the wrong shape. */
  | 'malformed'
  /** Signed with a key id the supervisor does not trust. */
  | 'unknown-key'
  /** Signed by a trusted key, but `iss` is not the issuer `licensing.issuer` names. */
  | 'wrong-issuer'
  /** The signature does not match: forged, or a claim was changed after signing. */
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  /** Issued for another node, or for a selector this node's labels do not match. */
  | 'wrong-node'
  /** The node's `region` label is not among the licence's allowed regions. */
  | 'region'
  | 'revoked'
  /** A fleet licence's `maxNodes` is reached. */
  | 'fleet-full';

/** Every {@link LicenceRefusal}, in one place (the metrics' labels come from it). */
export const licenceRefusals: readonly LicenceRefusal[] = [
  'missing',
  'malformed',
  'unknown-key',
  'wrong-issuer',
  'bad-signature',
  'expired',
  'not-yet-valid',
  'wrong-node',
  'region',
  'revoked',
  'fleet-full',
];

/** Who a licence is for: one node by id, or every node a label selector matches. */
export type LicenceSubject = { readonly node: string } | { readonly selector: LabelSelector };

/** A licence's claims once its signature is checked. Times are ms since the epoch. */
export interface Licence {
  /** The licence id (`jti`): what `revoke` names. */
  readonly id: string;
  /** The key id (`kid`) it was signed with. */
  readonly keyId: string;
  readonly issuer: string;
  readonly subject: LicenceSubject;
  readonly notBefore: number;
  readonly expiresAt: number;
  /** Entitlements: the feature names the licence grants. */
  readonly features: readonly string[];
  /** For a fleet (selector) licence: how many nodes may hold it at once. */
  readonly maxNodes?: number;
  /** Allowed values of the node's `region` label. */
  readonly regions?: readonly string[];
}

/** A public key the supervisor trusts, by key id: several may be trusted at once (rotation). */
export interface TrustedKey {
  readonly kid: string;
  /** An Ed25519 public key as a JWK (`{ kty: 'OKP', crv: 'Ed25519', x }`). */
  readonly jwk: JWK;
}

/** The `licensing` option of `createSupervisor`. */
export interface LicensingOptions {
  /**
   * Public keys trusted to sign licences: `TrustedKey`s, or JWKs that carry their own `kid`
   * (what `wyneos licence keygen` writes). Trust a new key beside the old one, issue with the
   * new one, then drop the old one: licences signed by either work throughout.
   */
  readonly keys: ReadonlyArray<TrustedKey | JWK>;
  /**
   * Refuse nodes that present no licence.
   * @defaultValue true
   */
  readonly required?: boolean;
  /**
   * Accept only licences from this issuer (`iss`).
   * @defaultValue undefined (any issuer)
   */
  readonly issuer?: string;
  /**
   * A licence this close to its expiry gives a `warn` action and an `expiring` event (7 days).
   * @defaultValue 604_800_000
   */
  readonly warnBeforeMs?: number;
  /**
   * How long an expired or revoked licence is tolerated before the node is gated.
   * @defaultValue 0
   */
  readonly graceMs?: number;
}

/** What the supervisor knows of one node's licence now. */
export type LicenceStatus = 'valid' | 'expiring' | 'expired' | 'revoked' | 'invalid';

/** One node's licence as `sup.licence(nodeId)` shows it. */
export interface NodeLicence {
  readonly nodeId: string;
  readonly licence: Licence;
  readonly status: LicenceStatus;
  /** Why it is `revoked` or `invalid`. */
  readonly reason?: string;
  /** When the node is (or was) gated for it, once it went bad: the bad moment plus the grace. */
  readonly gateAt?: number;
}

/** A revoked licence, as kept in the durable state. */
export interface Revocation {
  readonly licenceId: string;
  readonly reason: string;
  readonly at: number;
}

/** What `licences$` emits: every licence decision, for nodes and other services to react. */
export interface LicenceEvent {
  readonly type: 'admitted' | 'refused' | 'expiring' | 'expired' | 'revoked' | 'gated';
  readonly at: number;
  readonly nodeId?: string;
  readonly licenceId?: string;
  /** For `refused`: the refusal reason; for `revoked` and `gated`: why. */
  readonly reason?: string;
}
