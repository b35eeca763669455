import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, StateCorruptError, StateVersionError } from '../errors.js';
import { thrownMessage } from '../show.js';
import { storageError, syncDirectory, writeSynced } from './durable.js';
import { fileNames, isCode } from './layout.js';
import { migrate, stateProblem } from './state-schema.js';
import { type DurableState, type StateStore, stateFormatVersion } from './types.js';

/** Options of {@link FileStateStore}. */
export interface FileStateStoreOptions {
  /**
   * When the state file is corrupt or unreadable, start from the last good copy
   * (`state.prev.json`) instead of refusing to start, and say so through `onNotice`.
   * @defaultValue false
   */
  readonly recover?: boolean;
  /**
   * Receives what the store did on its own: a recovery, a leftover file removed.
   * @defaultValue `process.emitWarning`
   */
  readonly onNotice?: (message: string) => void;
}

type ReadResult =
  | { readonly kind: 'missing' }
  | { readonly kind: 'ok'; readonly state: DurableState }
  | { readonly kind: 'bad'; readonly problem: string; readonly error?: unknown };

/**
 * Keeps the durable state in `<dir>/state.json`, and the one before it in `state.prev.json`.
 *
 * `save` is synchronous and atomic: it writes `state.json.tmp`, syncs it, keeps the current
 * file as the last good copy, renames the new one into place and syncs the directory. At every
 * instant `state.json` is a complete old or new state, so a crash at any point loses at most
 * the save in progress.
 *
 * @example
 * ```ts
 * const store = new FileStateStore('./wyneos-data', { recover: process.argv.includes('--recover') });
 * const state = store.load(); // undefined on the first start
 * ```
 */
export class FileStateStore implements StateStore {
  readonly dir: string;
  readonly #recover: boolean;
  readonly #notice: (message: string) => void;
  readonly #file: string;
  readonly #previous: string;
  readonly #temporary: string;
  // Set when load() fell back to the last good copy: the next save must not make the corrupt
  // file the "last good copy", so it moves it aside instead.
  #recovered = false;

  constructor(dir: string, options: FileStateStoreOptions = {}) {
    if (typeof dir !== 'string' || dir === '') {
      throw new InvalidArgumentError('state directory', 'expected a non-empty path');
    }
    this.dir = dir;
    this.#recover = options.recover ?? false;
    this.#notice = options.onNotice ?? ((message) => process.emitWarning(message, 'WyneosNotice'));
    this.#file = join(dir, fileNames.state);
    this.#previous = join(dir, fileNames.statePrevious);
    this.#temporary = join(dir, fileNames.stateTemporary);
  }

  /**
   * The saved state, or undefined when none was ever saved. Throws StateCorruptError when the
   * state file cannot be used (and, with `recover`, neither can the last good copy), and
   * StateVersionError when a newer wyneos wrote it.
   */
  load(): DurableState | undefined {
    this.#removeLeftover();
    const current = readStateFile(this.#file);
    if (current.kind === 'ok') return current.state;
    const hasPrevious = existsSync(this.#previous);
    if (current.kind === 'missing' && !hasPrevious) return undefined;
    // Saves never remove state.json once it exists: a last good copy without it means someone
    // deleted it, and starting empty would quietly forget every isolation.
    const problem =
      current.kind === 'bad'
        ? current.problem
        : `is missing, but the last good copy ${this.#previous} exists`;
    const cause = current.kind === 'bad' ? current.error : undefined;
    if (!this.#recover) {
      throw new StateCorruptError(
        this.#file,
        `State file ${this.#file} ${problem}. Start with --recover (the recover option) to start from the last good copy, ${this.#previous}`,
        { cause },
      );
    }
    const previous = readStateFile(this.#previous);
    if (previous.kind === 'ok') {
      this.#recovered = true;
      this.#notice(
        `State file ${this.#file} ${problem}; recovering from the last good copy ${this.#previous} (saved at ${showTime(previous.state.savedAt)}). Decisions made after it are lost.`,
      );
      return previous.state;
    }
    const why =
      previous.kind === 'missing'
        ? `there is no last good copy (${this.#previous} does not exist)`
        : `the last good copy ${this.#previous} ${previous.problem} too`;
    throw new StateCorruptError(
      this.#file,
      `Cannot recover: state file ${this.#file} ${problem}, and ${why}`,
      { cause },
    );
  }

  /** Replaces the saved state atomically; on disk when this returns. Throws StorageError. */
  save(state: DurableState): void {
    const problem = stateProblem(state);
    // The supervisor builds the state: refusing it here, before anything is written, turns a
    // state that the next start could not load into an error now.
    if (problem !== undefined) throw new InvalidArgumentError('durable state', problem);
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw storageError(this.dir, 'create the state directory', error);
    }
    writeSynced(this.#temporary, Buffer.from(`${JSON.stringify(state)}\n`));
    if (this.#recovered) {
      const corrupt = join(this.dir, fileNames.stateCorrupt);
      if (linkOrCopy(this.#file, corrupt)) {
        this.#notice(`Kept the corrupt state file as ${corrupt}, for inspection`);
      }
    } else {
      linkOrCopy(this.#file, this.#previous);
    }
    try {
      renameSync(this.#temporary, this.#file);
    } catch (error) {
      throw storageError(this.#file, 'replace', error);
    }
    syncDirectory(this.dir);
    this.#recovered = false;
  }

  /**
   * The state file's inode, size and modification time: every save renames a new file into
   * place, so this changes with each one, whichever process saved. Undefined while there is none.
   */
  revision(): string | undefined {
    const stat = statSync(this.#file, { throwIfNoEntry: false, bigint: true });
    return stat === undefined ? undefined : `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  }

  // A temporary file is what a crash during save leaves; the save it belonged to never
  // completed, so it is not state.
  #removeLeftover(): void {
    try {
      unlinkSync(this.#temporary);
      this.#notice(`Removed ${this.#temporary}, left by a save that did not complete`);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw storageError(this.#temporary, 'remove', error);
    }
  }
}

/**
 * Makes `to` the same file as `from` (a hard link, so no moment exists where `from` is
 * incomplete), or a copy where links are not supported. False when `from` does not exist.
 */
function linkOrCopy(from: string, to: string): boolean {
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

function readStateFile(file: string): ReadResult {
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

function showTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
