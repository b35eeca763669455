import { closeSync, constants, fsyncSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { StateCorruptError } from '../errors.js';
import { storageError, writeAll } from './durable.js';
import { isCode } from './layout.js';
import { JournalDamage, type JournalLine, scanJournal } from './state-journal.js';

/**
 * @internal The state journal's file: appends one line with one write and one fsync, reads its
 * lines back, and is emptied once a snapshot holds them. It keeps its descriptor open between
 * appends, so an append costs a write and an fsync, not an open and a close too.
 */
export class JournalFile {
  #fd: number | undefined;
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
    try {
      this.#fd ??= openSync(this.file, 'a');
      writeAll(this.#fd, bytes);
      fsyncSync(this.#fd);
    } catch (error) {
      // A part written (a full disk) would glue the next line to it: cut it off, if we can.
      if (this.#fd !== undefined) {
        try {
          ftruncateSync(this.#fd, this.#bytes);
        } catch {
          // Then the next load finds a damaged line and says so; nothing better is possible.
        }
      }
      this.#close();
      throw storageError(this.file, 'append to', error);
    }
    this.#bytes += bytes.length;
  }

  /** Empties the journal, durably. Throws StorageError. */
  empty(): void {
    try {
      if (this.#fd === undefined) {
        // No journal yet: nothing to empty, and no empty file to leave behind.
        try {
          this.#fd = openSync(this.file, constants.O_WRONLY | constants.O_APPEND);
        } catch (error) {
          if (isCode(error, 'ENOENT')) return;
          throw error;
        }
      }
      ftruncateSync(this.#fd, 0);
      fsyncSync(this.#fd);
    } catch (error) {
      this.#close();
      throw storageError(this.file, 'empty', error);
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
    this.#close();
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

  #close(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // Already unusable; the next append opens the file again.
    }
    this.#fd = undefined;
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
