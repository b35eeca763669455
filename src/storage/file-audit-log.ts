import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, StorageError } from '../errors.js';
import { type AuditScan, scanAuditFile, tornNotice } from './audit-lines.js';
import { storageError, syncDirectory, writeAll } from './durable.js';
import { fileNames, isCode, rotatedAuditFiles, rotatedAuditName } from './layout.js';
import { newAuditRecord } from './new-record.js';
import type { AuditLog, AuditRecord } from './types.js';

/** Options of {@link FileAuditLog}. */
export interface FileAuditLogOptions {
  /**
   * The size past which `audit.jsonl` is rotated, in bytes. One flush is never split: a file
   * can pass it by one flush's worth when it was empty before.
   * @defaultValue 10 MiB
   */
  readonly maxBytes?: number;
  /**
   * How many rotated files to keep (`audit.1.jsonl`, newest, to `audit.<maxFiles>.jsonl`,
   * oldest); older ones are deleted. 0 keeps none.
   * @defaultValue 5
   */
  readonly maxFiles?: number;
  /**
   * Receives what the log did on its own: a torn last line truncated, a damaged line skipped.
   * @defaultValue `process.emitWarning`
   */
  readonly onNotice?: (message: string) => void;
}

/** The defaults of {@link FileAuditLogOptions}. */
export const defaultAuditLogOptions = { maxBytes: 10 * 1024 * 1024, maxFiles: 5 } as const;

/**
 * An append-only audit log in JSON lines: `<dir>/audit.jsonl`, rotated by size to
 * `audit.1.jsonl` (newest) ... `audit.<maxFiles>.jsonl` (oldest).
 *
 * `append` only buffers; `flush` writes everything buffered with one write and one fsync (a
 * group commit, once per tick). Opening the log repairs what a crash left: a torn last line is
 * reported and truncated, and `seq` continues from the last record written.
 *
 * @example
 * ```ts
 * const log = new FileAuditLog('./wyneos-data', { onNotice: (m) => logger.warn(m) });
 * log.append({ at: Date.now(), type: 'operator', nodeId: 'node-17', data: { command: 'isolate' } });
 * log.flush();
 * ```
 */
export class FileAuditLog implements AuditLog {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #maxFiles: number;
  readonly #notice: (message: string) => void;
  readonly #file: string;
  #fd: number | undefined;
  #size: number;
  #seq: number;
  #pending: string[] = [];

  constructor(dir: string, options: FileAuditLogOptions = {}) {
    if (typeof dir !== 'string' || dir === '') {
      throw new InvalidArgumentError('state directory', 'expected a non-empty path');
    }
    this.dir = dir;
    this.#maxBytes = options.maxBytes ?? defaultAuditLogOptions.maxBytes;
    this.#maxFiles = options.maxFiles ?? defaultAuditLogOptions.maxFiles;
    if (!Number.isSafeInteger(this.#maxBytes) || this.#maxBytes < 1) {
      throw new InvalidArgumentError('maxBytes', 'expected a whole number of bytes, at least 1');
    }
    if (!Number.isSafeInteger(this.#maxFiles) || this.#maxFiles < 0) {
      throw new InvalidArgumentError('maxFiles', 'expected a whole number, at least 0');
    }
    this.#notice = options.onNotice ?? ((message) => process.emitWarning(message, 'WyneosNotice'));
    this.#file = join(dir, fileNames.audit);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw storageError(dir, 'create the state directory', error);
    }
    const live = scanAuditFile(this.#file);
    this.#fd = this.#open();
    this.#size = this.#repair(live);
    this.#seq = live.lastSeq ?? this.#lastRotatedSeq() ?? 0;
  }

  /** Buffers a record until the next flush and returns it, with its `v` and `seq`. */
  append(record: Omit<AuditRecord, 'v' | 'seq'>): AuditRecord {
    if (this.#fd === undefined) {
      throw new StorageError(this.#file, `Cannot append to ${this.#file}: the log is closed`);
    }
    const { record: full, line } = newAuditRecord(record, this.#seq + 1);
    this.#pending.push(line);
    this.#seq = full.seq;
    return full;
  }

  /**
   * Writes and syncs every record appended since the last flush: one write, one fsync. On a
   * failure nothing is kept half-written and the records stay buffered for the next flush.
   */
  flush(): void {
    if (this.#pending.length === 0 || this.#fd === undefined) return;
    const data = Buffer.from(this.#pending.join(''));
    if (this.#size > 0 && this.#size + data.length > this.#maxBytes) this.#rotate();
    const fd = this.#fd;
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } catch (error) {
      try {
        ftruncateSync(fd, this.#size);
      } catch {
        // The write already failed and is reported below; a tail this leaves is torn, and the
        // next open truncates it.
      }
      throw storageError(this.#file, 'write the audit log', error);
    }
    this.#size += data.length;
    this.#pending = [];
  }

  /** Every flushed record, oldest first, rotated files included. */
  read(): AuditRecord[] {
    const records: AuditRecord[] = [];
    const files = [
      ...rotatedAuditFiles(this.dir)
        .reverse()
        .map((f) => f.path),
      this.#file,
    ];
    for (const file of files) {
      const scan = scanAuditFile(file);
      for (const problem of scan.problems) this.#notice(problem);
      if (scan.tornAt !== undefined) this.#notice(tornNotice(file, scan, 'skipped'));
      records.push(...scan.records);
    }
    return records;
  }

  /** Flushes, then closes the file. Appending afterwards throws; closing twice does nothing. */
  close(): void {
    if (this.#fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }

  #open(): number {
    try {
      return openSync(this.#file, 'a');
    } catch (error) {
      throw storageError(this.#file, 'open', error);
    }
  }

  // Cuts a torn tail off the live file so that appends start on a clean line; returns the size.
  #repair(scan: AuditScan): number {
    for (const problem of scan.problems) this.#notice(problem);
    if (scan.tornAt === undefined || this.#fd === undefined) return scan.size;
    try {
      ftruncateSync(this.#fd, scan.tornAt);
      fsyncSync(this.#fd);
    } catch (error) {
      throw storageError(this.#file, 'truncate the torn last line of', error);
    }
    this.#notice(tornNotice(this.#file, scan, 'truncated'));
    return scan.tornAt;
  }

  // After a rotation the live file is empty: seq continues from the newest rotated record.
  #lastRotatedSeq(): number | undefined {
    for (const { path } of rotatedAuditFiles(this.dir)) {
      const seq = scanAuditFile(path).lastSeq;
      if (seq !== undefined) return seq;
    }
    return undefined;
  }

  // Each rename is atomic; a crash between two leaves a gap in the numbers, which readers
  // accept, and loses nothing. The oldest files go first so that no rename overwrites a file.
  #rotate(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    try {
      for (const { n, path } of rotatedAuditFiles(this.dir).reverse()) {
        if (n >= this.#maxFiles) unlessMissing(() => unlinkSync(path));
        else unlessMissing(() => renameSync(path, join(this.dir, rotatedAuditName(n + 1))));
      }
      if (this.#maxFiles === 0) unlessMissing(() => unlinkSync(this.#file));
      else unlessMissing(() => renameSync(this.#file, join(this.dir, rotatedAuditName(1))));
    } catch (error) {
      throw storageError(this.#file, 'rotate', error);
    } finally {
      this.#fd = this.#open();
    }
    this.#size = 0;
    syncDirectory(this.dir);
  }
}

// A file that vanished has nothing left to rotate (another process, or an operator, moved it).
function unlessMissing(operation: () => void): void {
  try {
    operation();
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error;
  }
}
