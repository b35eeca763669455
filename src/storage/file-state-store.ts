import { existsSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, StateCorruptError } from '../errors.js';
import { storageError, syncDirectory, writeSynced } from './durable.js';
import { JournalFile } from './journal-file.js';
import { fileNames, isCode } from './layout.js';
import { linkOrCopy, readStateFile, showTime } from './state-file.js';
import {
  baseOf,
  diff,
  type JournalBase,
  type JournalLine,
  markBase,
  replay,
} from './state-journal.js';
import { stateProblem } from './state-schema.js';
import type { DurableState, StateStore } from './types.js';

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
  /**
   * The journal is compacted into a new `state.json` once it is larger than this and than
   * `state.json` itself (so compaction costs, per byte journalled, at most one byte written).
   * @defaultValue 1 MiB
   */
  readonly compactBytes?: number;
}

/** The defaults of {@link FileStateStoreOptions}. */
export const defaultStateStoreOptions = { compactBytes: 1024 * 1024 } as const;

function checked(state: DurableState): DurableState {
  const problem = stateProblem(state);
  if (problem !== undefined) throw new InvalidArgumentError('durable state', problem);
  return state;
}

/**
 * Keeps the durable state in `<dir>/state.json` (a snapshot) and `state.journal.jsonl` (what
 * changed since, one line per save), and the snapshot before in `state.prev.json`.
 *
 * `save` is synchronous: it appends what differs from the last save (a registration, a
 * lifecycle change, a mark) as one line, with one write and one fsync, so its cost follows the
 * change, not the fleet. A crash mid-append leaves a torn last line, which the next load
 * reports and drops: the save it belonged to never returned. Once the journal outgrows the
 * snapshot, the state is compacted atomically: it writes `state.json.tmp`, syncs it, keeps the
 * current snapshot as the last good copy, renames the new one into place, syncs the directory,
 * and only then empties the journal. The snapshot names the last journal line it holds, so a
 * crash before the journal is emptied never applies a line twice.
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
  readonly #journal: JournalFile;
  readonly #compactBytes: number;
  // What the last save or load left on disk, to append only what differs; undefined until one.
  #base: JournalBase | undefined;
  #line = 0;
  #snapshotBytes = 0;

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
    this.#journal = new JournalFile(join(dir, fileNames.stateJournal), this.#notice);
    this.#compactBytes = options.compactBytes ?? defaultStateStoreOptions.compactBytes;
    if (!Number.isSafeInteger(this.#compactBytes) || this.#compactBytes < 0) {
      throw new InvalidArgumentError('compactBytes', 'expected a whole number of bytes');
    }
  }

  /**
   * The saved state, or undefined when none was ever saved. Throws StateCorruptError when the
   * state file cannot be used (and, with `recover`, neither can the last good copy), and
   * StateVersionError when a newer wyneos wrote it.
   */
  load(): DurableState | undefined {
    this.#removeLeftover();
    const current = readStateFile(this.#file);
    if (current.kind === 'ok') return this.#withJournal(current.state, this.#file, false);
    const hasPrevious = existsSync(this.#previous);
    if (current.kind === 'missing' && !hasPrevious) {
      if (this.#journal.read().length > 0) {
        throw new StateCorruptError(
          this.#journal.file,
          `State file ${this.#file} is missing, but its journal ${this.#journal.file} is not empty`,
        );
      }
      return undefined;
    }
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
      return this.#withJournal(previous.state, this.#previous, true);
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

  /**
   * Saves the state: appends what differs from the last save or load to the journal, or
   * compacts (before the first save or load, and when the journal has outgrown the snapshot).
   * On disk when this returns. Throws StorageError.
   */
  save(state: DurableState): void {
    const base = this.#base;
    if (base === undefined || this.#recovered) {
      this.#compact(checked(state));
      return;
    }
    const change = diff(base, state);
    if (change === undefined) return;
    // Only what is written is checked (what changed, and the rest of the state without its
    // nodes): checking every node at every save cost more than the save at 10,000 nodes.
    const problem = stateProblem({ ...state, nodes: change.put ?? [] });
    try {
      // The supervisor builds the state: refusing it here, before anything is written, turns
      // a state that the next start could not load into an error now.
      if (problem !== undefined) throw new InvalidArgumentError('durable state', problem);
      this.#append(change);
    } catch (error) {
      // What the base now says is not on disk: the next save writes everything again.
      this.#base = undefined;
      throw error;
    }
    if (this.#journal.bytes > Math.max(this.#compactBytes, this.#snapshotBytes)) {
      this.#compact(state);
    }
  }

  /**
   * Appends heartbeat high-water marks that moved past what is saved; one line, one fsync.
   * Marks of nodes it does not hold are ignored. Throws StorageError.
   */
  saveMarks(marks: readonly (readonly [nodeId: string, epoch: number, seq: number])[]): void {
    if (this.#base === undefined || marks.length === 0) return;
    const moved = markBase(this.#base, marks);
    if (moved.length === 0) return;
    try {
      this.#append({ marks: moved });
    } catch (error) {
      this.#base = undefined;
      throw error;
    }
  }

  #append(change: Omit<JournalLine, 'n'>): void {
    this.#journal.append({ n: this.#line + 1, ...change });
    this.#line++;
  }

  /** Writes `state` as the new snapshot, then empties the journal it now holds. */
  #compact(state: DurableState): void {
    this.#base = undefined;
    const snapshot = Buffer.from(`${JSON.stringify({ ...state, journal: this.#line })}\n`);
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw storageError(this.dir, 'create the state directory', error);
    }
    writeSynced(this.#temporary, snapshot);
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
    this.#snapshotBytes = snapshot.length;
    // Should this fail, the snapshot on disk names the last line it holds, so the lines left
    // are skipped on load; the next save compacts again (the base is unset).
    this.#journal.empty();
    this.#base = baseOf(state);
  }

  /**
   * The snapshot `file` holds with the journal lines after it applied. The journal continues
   * `state.json`: after recovering from the last good copy (`previous`), whose lines were
   * compacted away, it applies only if it still continues that one.
   */
  #withJournal(snapshot: DurableState, file: string, previous: boolean): DurableState {
    const holds = (snapshot as { journal?: unknown }).journal;
    const upTo = typeof holds === 'number' && Number.isSafeInteger(holds) ? holds : 0;
    const lines = this.#journal.read();
    const after = lines.filter((line) => line.n > upTo);
    const first = after[0];
    let state = snapshot;
    if (first !== undefined && first.n !== upTo + 1) {
      if (!previous) {
        throw new StateCorruptError(
          this.#journal.file,
          `State journal ${this.#journal.file} does not continue ${file}: it holds lines up to ${upTo}, the journal's next is line ${first.n}`,
        );
      }
      this.#notice(
        `Ignored the journal ${this.#journal.file}: it continues the damaged state file`,
      );
    } else {
      state = replay(snapshot, after);
      const problem = stateProblem(state);
      if (problem !== undefined) {
        throw new StateCorruptError(
          this.#journal.file,
          `State file ${file} with its journal ${this.#journal.file} ${problem}`,
        );
      }
    }
    const { journal: _journal, ...loaded } = state as DurableState & { journal?: number };
    this.#line = Math.max(upTo, lines.at(-1)?.n ?? 0);
    // The first save after a load compacts: each start leaves one snapshot and an empty journal,
    // and the snapshot before it becomes the last good copy.
    this.#base = undefined;
    this.#snapshotBytes = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    return loaded;
  }

  /**
   * The state file's inode, size and modification time: every save renames a new file into
   * place, so this changes with each one, whichever process saved. Undefined while there is none.
   */
  revision(): string | undefined {
    const stat = statSync(this.#file, { throwIfNoEntry: false, bigint: true });
    if (stat === undefined) return undefined;
    const journal = statSync(this.#journal.file, { throwIfNoEntry: false, bigint: true });
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}:${journal?.size ?? 0}:${journal?.mtimeNs ?? 0}`;
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
