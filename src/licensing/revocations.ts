import { InvalidArgumentError } from '../errors.js';
import { isWellFormed } from '../unicode.js';
import type { Revocation } from './types.js';

/**
 * The revoked licence ids. A revocation is never undone (issue a new licence instead), so
 * merging the lists of two supervisors is a union, and the order they learn them in does not
 * matter: what a shared store or, later, a message bus needs.
 */
export class RevocationList {
  private readonly byId = new Map<string, Revocation>();
  /** Bumped whenever a revocation is added, so the tick knows to look again. */
  version = 0;

  /** Adds a revocation; returns it, or undefined when the licence was revoked already. */
  revoke(licenceId: unknown, reason: unknown, at: number): Revocation | undefined {
    if (
      typeof licenceId !== 'string' ||
      licenceId.length === 0 ||
      licenceId.length > 256 ||
      !isWellFormed(licenceId)
    ) {
      throw new InvalidArgumentError(
        'licenceId',
        'expected a licence id (its jti) of 1 to 256 characters of well-formed Unicode',
      );
    }
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 1024) {
      throw new InvalidArgumentError('reason', 'expected a string of 1 to 1024 characters');
    }
    return this.add({ licenceId, reason, at });
  }

  /** Adds what another supervisor revoked; returns those that were new here. */
  merge(revocations: readonly Revocation[]): Revocation[] {
    const added: Revocation[] = [];
    for (const revocation of revocations) {
      const fresh = this.add(revocation);
      if (fresh !== undefined) added.push(fresh);
    }
    return added;
  }

  get(licenceId: string): Revocation | undefined {
    return this.byId.get(licenceId);
  }

  list(): Revocation[] {
    return [...this.byId.values()];
  }

  private add(revocation: Revocation): Revocation | undefined {
    if (this.byId.has(revocation.licenceId)) return undefined;
    const copy = { licenceId: revocation.licenceId, reason: revocation.reason, at: revocation.at };
    this.byId.set(copy.licenceId, copy);
    this.version++;
    return copy;
  }
}
