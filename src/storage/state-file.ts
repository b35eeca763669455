import { copyFileSync, linkSync, readFileSync, unlinkSync } from 'node:fs';
import { StateVersionError } from '../errors.js';
import { thrownMessage } from '../show.js';
import { storageError } from './durable.js';
import { isCode } from './layout.js';
import { migrate, stateProblem } from './state-schema.js';
import { type DurableState, stateFormatVersion } from './types.js';

/** @internal What reading one state file (a snapshot) found. */
export type ReadResult =
  | { readonly kind: 'missing' }
  | { readonly kind: 'ok'; readonly state: DurableState }
  | { readonly kind: 'bad'; readonly problem: string; readonly error?: unknown };

/**
 * Makes `to` the same file as `from` (a hard link, so no moment exists where `from` is
 * incomplete), or a copy where links are not supported. False when `from` does not exist.
 */
/** @internal */
export function linkOrCopy(from: string, to: string): boolean {
  try {
    try {
      unlinkSync(to);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error;
    }
    try {
      linkSync(from, to);
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      if (
        !['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSYS'].some((c) =>
          isCode(error, c),
        )
      )
        throw error;
      // Some file systems (FAT, some network shares) have no hard links. A copy cut short by a
      // crash leaves a last good copy that load() reports as corrupt, never a wrong state.
      copyFileSync(from, to);
    }
    return true;
  } catch (error) {
    throw storageError(to, 'keep the last good copy as', error);
  }
}

/** @internal */
export function readStateFile(file: string): ReadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return { kind: 'missing' };
    return { kind: 'bad', problem: `cannot be read (${thrownMessage(error)})`, error };
  }
  if (text.trim() === '') return { kind: 'bad', problem: 'is empty' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { kind: 'bad', problem: `is not valid JSON (${thrownMessage(error)})`, error };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { kind: 'bad', problem: 'is not a wyneos state file (not a JSON object)' };
  }
  const record = raw as Record<string, unknown>;
  if (record.format !== 'wyneos-state') {
    return { kind: 'bad', problem: 'is not a wyneos state file (no "format": "wyneos-state")' };
  }
  const version = record.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    return { kind: 'bad', problem: 'has no valid format version (expected a whole number)' };
  }
  // Not recoverable from the last good copy: that one is most likely just as new, and an
  // older copy would undo what the newer release decided.
  if (version > stateFormatVersion) throw new StateVersionError(file, version, stateFormatVersion);
  const state = migrate(record, version);
  const problem = stateProblem(state);
  if (problem !== undefined) return { kind: 'bad', problem };
  return { kind: 'ok', state: state as unknown as DurableState };
}

/** @internal */
export function showTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
