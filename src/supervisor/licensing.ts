import { Subject } from 'rxjs';
import { LicenceRefusedError } from '../errors.js';
import {
  LicenceBook,
  type LicenceEvent,
  type LicenceTick,
  type NodeLicence,
  type ResolvedLicensing,
  type Revocation,
  RevocationList,
} from '../licensing/index.js';
import type { Logger } from '../logger.js';
import type { StateStore } from '../storage/index.js';
import type { NodeRegistration } from '../telemetry/index.js';
import type { NodeState } from '../types.js';

/**
 * The supervisor's side of licensing: admission, the per-tick check, revocations and their
 * sharing through the state store, and the `licences$` stream. With no `licensing` option only
 * the revocation list exists (a revocation may come before the licensing it applies to).
 */
export class SupervisorLicensing {
  readonly revocations = new RevocationList();
  readonly events = new Subject<LicenceEvent>();
  readonly book: LicenceBook | undefined;
  // The store's revision last seen or written here: a different one means another supervisor
  // saved, and its revocations are merged in.
  private seenRevision: string | undefined;

  constructor(
    options: ResolvedLicensing | undefined,
    private readonly store: StateStore | undefined,
    private readonly log: Logger,
  ) {
    this.book = options === undefined ? undefined : new LicenceBook(options, this.revocations);
  }

  /** Checks the licences of nodes about to register; throws LicenceRefusedError (and says so). */
  admit(registrations: readonly NodeRegistration[], at: number) {
    if (this.book === undefined) return undefined;
    try {
      return this.book.admit(registrations, at);
    } catch (error) {
      if (error instanceof LicenceRefusedError) {
        const { nodeId, reason, licenceId } = error;
        this.emit({
          type: 'refused',
          at,
          nodeId,
          reason,
          ...(licenceId === undefined ? {} : { licenceId }),
        });
      }
      throw error;
    }
  }

  revoke(licenceId: string, reason: string, at: number): Revocation | undefined {
    const revocation = this.revocations.revoke(licenceId, reason, at);
    if (revocation !== undefined) this.emit({ type: 'revoked', at, licenceId, reason });
    return revocation;
  }

  tick(
    tick: number,
    at: number,
    stateOf: (nodeId: string) => NodeState | undefined,
  ): LicenceTick | undefined {
    this.pollShared();
    return this.book?.tick(tick, at, stateOf);
  }

  view(nodeId: string, at: number): NodeLicence | undefined {
    return this.book?.view(nodeId, at);
  }

  emit(event: LicenceEvent): void {
    const { type, nodeId, licenceId, reason } = event;
    const fields = { licenceEvent: type, nodeId, licenceId, reason };
    if (type === 'admitted') this.log.debug(fields, 'licence');
    else this.log.warn(fields, 'licence');
    this.events.next(event);
  }

  /**
   * Merges revocations another supervisor saved to the shared state store. Cheap when nothing
   * changed (one `revision()` call: a stat of the state file). A failure is logged, never
   * thrown: a tick must not stop because a neighbour's file could not be read just now.
   * The NATS mode shares them through its settings bucket instead (src/nats/shared-settings.ts).
   */
  pollShared(): void {
    const store = this.store;
    if (store?.revision === undefined) return;
    try {
      const revision = store.revision();
      if (revision === this.seenRevision) return;
      this.seenRevision = revision;
      const saved = store.load();
      for (const revocation of this.revocations.merge(saved?.revocations ?? [])) {
        this.emit({
          type: 'revoked',
          at: revocation.at,
          licenceId: revocation.licenceId,
          reason: revocation.reason,
        });
      }
    } catch (error) {
      this.log.warn(
        { error: (error as Error).message },
        'could not read revocations from the state store',
      );
    }
  }

  /** Our own save: not news to us. */
  saved(): void {
    this.seenRevision = this.store?.revision?.();
  }

  complete(): void {
    this.events.complete();
  }
}
