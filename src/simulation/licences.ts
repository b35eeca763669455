import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * The simulated fleet's licence authority: an Ed25519 key of its own and a licence per node.
 * It signs synchronously with node:crypto because the simulator issues licences in the middle
 * of a synchronous run (a renewal that lapses, a redeploy), where jose's signing, which is
 * asynchronous, cannot be awaited. The tokens are the same EdDSA JWTs `issueLicence` makes
 * (a test has jose verify one), so the supervisor checks them exactly as it checks real ones.
 */
export class SimulatedLicences {
  readonly publicJwk: JWK;
  private readonly privateKey: KeyObject;
  private serial = 0;
  /** Each node's current licence id: what a revocation fault revokes. */
  readonly held = new Map<string, string>();

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.publicJwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'simulation' };
  }

  /** A licence for `nodeId`, valid from `from` until `until` (ms), recorded as the node's. */
  issue(nodeId: string, from: number, until: number): string {
    const id = `sim-${nodeId}-${++this.serial}`;
    const header = { alg: 'EdDSA', kid: 'simulation', typ: 'JWT' };
    const claims = {
      jti: id,
      iss: 'wyneos-simulation',
      sub: nodeId,
      nbf: Math.floor(from / 1000),
      exp: Math.ceil(until / 1000),
      features: [],
    };
    const body = `${encode(header)}.${encode(claims)}`;
    const signature = sign(null, Buffer.from(body), this.privateKey).toString('base64url');
    this.held.set(nodeId, id);
    return `${body}.${signature}`;
  }
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
