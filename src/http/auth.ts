import { createHmac, timingSafeEqual } from 'node:crypto';
import { ForbiddenError, InvalidArgumentError, UnauthenticatedError } from '../errors.js';
import { nodeIdPattern } from '../telemetry/index.js';

/** Who a request speaks for, once its token is verified. */
export type Principal =
  | { readonly kind: 'operator' }
  | { readonly kind: 'node'; readonly id: string };

/** What a route asks of the caller: nothing, a node's or an operator's token, or an operator's. */
export type Access = 'open' | 'node' | 'operator';

// A token is `<subject>.<mac>`: the subject says who it claims to be, the MAC proves it. Node
// ids start with a letter or digit, so the operator's subject `@operator` is no node's id. The
// MAC inputs are prefixed per kind, so no node's MAC is ever the operator's.
const operatorSubject = '@operator';
const macLength = 43; // base64url of a SHA-256 MAC
const maxTokenLength = 256 + 1 + macLength;
const idPattern = new RegExp(nodeIdPattern);
const minSecretBytes = 16;

function mac(secret: Buffer, input: string): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

/**
 * The token of node `nodeId` under the server secret: `<nodeId>.<HMAC-SHA256 of the id>`. The
 * secret is read as the server reads it (trimmed, at least 16 bytes).
 *
 * @example
 * fetch(url, { headers: { authorization: `Bearer ${nodeToken(secret, 'node-7')}` } });
 */
export function nodeToken(secret: string | Buffer, nodeId: string): string {
  if (typeof nodeId !== 'string' || !idPattern.test(nodeId)) {
    throw new InvalidArgumentError('node id', `expected a node id, got ${JSON.stringify(nodeId)}`);
  }
  return `${nodeId}.${mac(parseSecret(secret, 'secret'), `wyneos:node:${nodeId}`)}`;
}

/** The operator's token under the server secret. */
export function operatorToken(secret: string | Buffer): string {
  return `${operatorSubject}.${mac(parseSecret(secret, 'secret'), 'wyneos:operator')}`;
}

/**
 * Checks a secret read from a file or given in code: at least 16 bytes once white space at
 * either end is trimmed (so the newline an editor adds to a file does not change the tokens).
 */
export function parseSecret(input: string | Buffer, source: string): Buffer {
  const secret = trim(Buffer.from(input));
  if (secret.length < minSecretBytes) {
    throw new InvalidArgumentError(
      source,
      `the secret must be at least ${minSecretBytes} bytes (32 random bytes is usual: openssl rand -hex 32), got ${secret.length}`,
    );
  }
  return secret;
}

function trim(bytes: Buffer): Buffer {
  const blank = (byte: number | undefined) =>
    byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
  let start = 0;
  let end = bytes.length;
  while (start < end && blank(bytes[start])) start++;
  while (end > start && blank(bytes[end - 1])) end--;
  return bytes.subarray(start, end);
}

/** Verifies `Authorization: Bearer <token>` headers under one secret. */
export class Authenticator {
  private readonly operatorMac: Buffer;

  constructor(private readonly secret: Buffer) {
    this.operatorMac = Buffer.from(mac(secret, 'wyneos:operator'));
  }

  /** The principal the header proves, or throws UnauthenticatedError. */
  verify(header: string | undefined): Principal {
    if (header === undefined) {
      throw new UnauthenticatedError('send Authorization: Bearer <token>');
    }
    if (header.length > 7 + maxTokenLength || !header.startsWith('Bearer ')) {
      throw new UnauthenticatedError('expected Authorization: Bearer <token>');
    }
    const token = header.slice(7).trim();
    const dot = token.lastIndexOf('.');
    const subject = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    if (dot > 0 && given.length === macLength) {
      if (subject === operatorSubject) {
        if (timingSafeEqual(given, this.operatorMac)) return { kind: 'operator' };
      } else if (idPattern.test(subject)) {
        const expected = Buffer.from(mac(this.secret, `wyneos:node:${subject}`));
        if (timingSafeEqual(given, expected)) return { kind: 'node', id: subject };
      }
    }
    throw new UnauthenticatedError('the token is not one this server issued');
  }
}

/** Checks that `principal` may act for node `nodeId`: the operator may, a node only for itself. */
export function assertActsFor(principal: Principal, nodeId: string): void {
  if (principal.kind === 'node' && principal.id !== nodeId) {
    throw new ForbiddenError(
      `node '${principal.id}' may act only as itself, not as '${String(nodeId).slice(0, 253)}'`,
    );
  }
}

/** Checks that `principal` has the access a route asks for. */
export function assertAccess(principal: Principal, access: Access): void {
  if (access === 'operator' && principal.kind !== 'operator') {
    throw new ForbiddenError('this route needs the operator token');
  }
}
