import { closeSync, constants, fsyncSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { StateCorruptError } from '../errors.js';
import { storageError, writeAll } from './durable.js';
import { isCode } from './layout.js';
import { JournalDamage, type JournalLine, scanJournal } from './state-journal.js';

/**
 * @internal The state journal's file: appends one line with one write and one fsync, reads its
 * lines back, and is emptied once a snapshot holds them. It opens the file for each append and
 * closes it after (a few microseconds next to the fsync): a store holds no descriptor between
 * saves, so nothing leaks when its supervisor is dropped without a stop.
 */
export class JournalFile {
  #bytes = 0;

  constructor(
    readonly file: string,
    private readonly notice: (message: string) => void,
  ) {}

  /** How many bytes the journal holds. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends `line` (one JSON line) durably. Throws StorageError, having cut off any part. */
  append(line: JournalLine): void {
    const bytes = Buffer.from(`${serialise(line)}\n`);
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'a');
      writeAll(fd, bytes);
      fsyncSync(fd);
    } catch (error) {
      // A part written (a full disk) would glue the next line to it: cut it off, if we can.
      if (fd !== undefined) {
        try {
          ftruncateSync(fd, this.#bytes);
        } catch {
          // Then the next load finds a damaged line and says so; nothing better is possible.
        }
      }
      throw storageError(this.file, 'append to', error);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.#bytes += bytes.length;
  }

  /** Empties the journal, durably. Throws StorageError. */
  empty(): void {
    let fd: number | undefined;
    try {
      // No journal yet: nothing to empty, and no empty file to leave behind.
      fd = openSync(this.file, constants.O_WRONLY);
      ftruncateSync(fd, 0);
      fsyncSync(fd);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw storageError(this.file, 'empty', error);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.#bytes = 0;
  }

  /**
   * The journal's lines. A torn last line (a crash mid-append) is reported and cut off, so the
   * next append starts after a newline; damage anywhere else throws StateCorruptError.
   */
  read(): JournalLine[] {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.file);
    } catch (error) {
      if (isCode(error, 'ENOENT')) {
        this.#bytes = 0;
        return [];
      }
      throw storageError(this.file, 'read', error);
    }
    let scan: ReturnType<typeof scanJournal>;
    try {
      scan = scanJournal(bytes);
    } catch (error) {
      if (!(error instanceof JournalDamage)) throw error;
      throw new StateCorruptError(
        this.file,
        `State journal ${this.file} is damaged: ${error.message}. Only a last line may be torn (what a crash mid-append leaves), and this is not that`,
      );
    }
    this.#bytes = bytes.length;
    if (scan.tornAt !== undefined) {
      this.notice(
        `${this.file}: dropped a torn last line at byte ${scan.tornAt} (${bytes.length - scan.tornAt} bytes, what a crash in the middle of an append leaves)`,
      );
      this.#truncate(scan.tornAt);
    }
    return scan.lines;
  }

  #truncate(size: number): void {
    try {
      const fd = openSync(this.file, 'r+');
      try {
        ftruncateSync(fd, size);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw storageError(this.file, 'truncate the torn last line of', error);
    }
    this.#bytes = size;
  }
}

// A line of marks only is most of what a heartbeating fleet writes (every node, every tick):
// spelled out by hand, since node ids hold nothing JSON escapes (see nodeIdPattern).
function serialise(line: JournalLine): string {
  const { marks } = line;
  if (marks === undefined || Object.keys(line).length !== 2) return JSON.stringify(line);
  const parts = new Array<string>(marks.length);
  for (let i = 0; i < marks.length; i++) {
    const [id, epoch, seq] = marks[i] as (typeof marks)[number];
    parts[i] = `["${id}",${epoch},${seq}]`;
  }
  return `{"n":${line.n},"marks":[${parts.join(',')}]}`;
}
