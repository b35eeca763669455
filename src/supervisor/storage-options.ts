import { InvalidOptionsError } from '../errors.js';
import { show } from '../show.js';
import {
  type AuditLog,
  acquireStateLock,
  FileAuditLog,
  FileStateStore,
  type StateStore,
} from '../storage/index.js';
import type { SupervisorOptions } from './types.js';

/** Where a supervisor keeps its durable state and audit log: nowhere, a directory, or given stores. */
export interface ResolvedStorage {
  readonly stateStore: StateStore | undefined;
  readonly auditLog: AuditLog | undefined;
  /** Lets go of the state directory's lock (nothing without one); idempotent. */
  readonly release: () => void;
}

const nothingToRelease = () => {};

/**
 * `stateDir` opens the embedded default (files in that directory); `stateStore` and `auditLog`
 * take implementations of your own (or the in-memory ones, in tests). Not both.
 */
export function resolveStorage(
  options: SupervisorOptions,
  notice: (message: string) => void,
): ResolvedStorage {
  const { stateDir, stateStore, auditLog, recover } = options;
  if (recover !== undefined && typeof recover !== 'boolean') {
    throw new InvalidOptionsError('recover', `expected true or false, got ${show(recover)}`);
  }
  if (stateDir === undefined) {
    for (const [name, store, method] of [
      ['stateStore', stateStore, 'save'],
      ['auditLog', auditLog, 'append'],
    ] as const) {
      if (
        store !== undefined &&
        typeof (store as unknown as Record<string, unknown>)[method] !== 'function'
      ) {
        throw new InvalidOptionsError(name, `expected an object with a ${method}() method`);
      }
    }
    return { stateStore, auditLog, release: nothingToRelease };
  }
  if (typeof stateDir !== 'string' || stateDir.trim() === '') {
    throw new InvalidOptionsError('stateDir', `expected a directory path, got ${show(stateDir)}`);
  }
  if (stateStore !== undefined || auditLog !== undefined) {
    throw new InvalidOptionsError('stateDir', 'give stateDir or stateStore/auditLog, not both');
  }
  // Before anything in the directory is read or repaired: only its one writer may do either.
  const lock = acquireStateLock(stateDir, notice);
  try {
    return {
      stateStore: new FileStateStore(stateDir, { recover: recover === true, onNotice: notice }),
      auditLog: new FileAuditLog(stateDir, { onNotice: notice }),
      release: () => lock.release(),
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
