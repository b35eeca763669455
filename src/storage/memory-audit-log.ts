import { StorageError } from '../errors.js';
import { newAuditRecord } from './new-record.js';
import type { AuditLog, AuditRecord } from './types.js';

/**
 * An AuditLog in memory, for tests. It behaves as {@link FileAuditLog} does: `append` buffers,
 * `flush` makes records readable, the same records are refused, and a log created from the
 * records of another continues their `seq`, as a file log does after a restart.
 *
 * @example
 * ```ts
 * const log = new MemoryAuditLog();
 * const sup = createSupervisor({ auditLog: log });
 * // ... tick
 * expect(log.read().filter((r) => r.type === 'transition')).toHaveLength(1);
 * ```
 */
export class MemoryAuditLog implements AuditLog {
  #flushed: AuditRecord[] = [];
  #pending: string[] = [];
  #seq: number;
  #closed = false;
  #flushes = 0;

  /** Starts with `records` already flushed, as if a previous run had written them. */
  constructor(records: readonly AuditRecord[] = []) {
    this.#flushed = records.map((r) => structuredClone(r));
    this.#seq = records.at(-1)?.seq ?? 0;
  }

  append(record: Omit<AuditRecord, 'v' | 'seq'>): AuditRecord {
    if (this.#closed)
      throw new StorageError('memory', 'Cannot append to the audit log: it is closed');
    const { record: full, line } = newAuditRecord(record, this.#seq + 1);
    this.#pending.push(line);
    this.#seq = full.seq;
    return full;
  }

  flush(): void {
    if (this.#pending.length === 0) return;
    // Parsed back from the line a file would hold: a test reads what a restart would.
    for (const line of this.#pending) this.#flushed.push(JSON.parse(line) as AuditRecord);
    this.#pending = [];
    this.#flushes++;
  }

  /** Every flushed record, oldest first. */
  read(): AuditRecord[] {
    return this.#flushed.map((r) => structuredClone(r));
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
  }

  /** How many flushes wrote something: one per tick that had records, in a group commit. */
  get flushes(): number {
    return this.#flushes;
  }

  /** How many records are appended but not flushed: what a crash now would lose. */
  get pending(): number {
    return this.#pending.length;
  }
}
