import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { scanAuditFile, tornNotice } from './audit-lines.js';
import { fileNames, rotatedAuditFiles } from './layout.js';
import type { AuditRecord } from './types.js';

/** Which records {@link queryAudit} returns. Every criterion given must match. */
export interface AuditQuery {
  /** Only records about this node. */
  readonly nodeId?: string;
  /** Only records at or after this time (ms, on the supervisor's clock). */
  readonly since?: number;
  /**
   * Only records of this type (`transition`, `action`, ...), or actions of this action type
   * (`isolate`, `reinstate`, ...): `type: 'isolate'` finds every isolate action.
   */
  readonly type?: string;
  /** At most this many records, the newest. Default: all. */
  readonly limit?: number;
}

/** Options of {@link queryAudit}. */
export interface AuditQueryOptions {
  /**
   * Receives a message for each damaged line skipped (a torn last line included).
   * @defaultValue `process.emitWarning`
   */
  readonly onNotice?: (message: string) => void;
}

/**
 * The audit records in the state directory `dir` that match `query`, newest first, rotated
 * files included. It only reads: a torn last line (a crash mid-write, or a write in progress
 * in a running supervisor) is reported and skipped, never truncated. A directory without an
 * audit log has no records.
 *
 * @example
 * ```ts
 * const isolations = queryAudit('./wyneos-data', { nodeId: 'node-17', type: 'isolate' });
 * ```
 */
export function queryAudit(
  dir: string,
  query: AuditQuery = {},
  options: AuditQueryOptions = {},
): AuditRecord[] {
  checkQuery(query);
  const notice = options.onNotice ?? ((message) => process.emitWarning(message, 'WyneosNotice'));
  const limit = query.limit ?? Number.POSITIVE_INFINITY;
  const files = [join(dir, fileNames.audit), ...rotatedAuditFiles(dir).map((f) => f.path)];
  const found: AuditRecord[] = [];
  // seq only falls from one file to the next older one. A record at or above the lowest seq
  // already seen was read twice, because a rotation renamed its file while this was reading.
  let lowestSeen = Number.POSITIVE_INFINITY;
  for (const file of files) {
    if (found.length >= limit) break;
    const scan = scanAuditFile(file);
    for (const problem of scan.problems) notice(problem);
    if (scan.tornAt !== undefined) notice(tornNotice(file, scan, 'skipped'));
    const fileLowest = scan.records[0]?.seq ?? lowestSeen;
    for (let i = scan.records.length - 1; i >= 0 && found.length < limit; i--) {
      const record = scan.records[i] as AuditRecord;
      if (record.seq < lowestSeen && matches(record, query)) found.push(record);
    }
    lowestSeen = Math.min(lowestSeen, fileLowest);
  }
  return found;
}

function matches(record: AuditRecord, query: AuditQuery): boolean {
  if (query.nodeId !== undefined && record.nodeId !== query.nodeId) return false;
  if (query.since !== undefined && record.at < query.since) return false;
  if (query.type !== undefined && record.type !== query.type) {
    return record.type === 'action' && record.data.type === query.type;
  }
  return true;
}

function checkQuery(query: AuditQuery): void {
  if (query.limit !== undefined && (!Number.isSafeInteger(query.limit) || query.limit < 1)) {
    throw new InvalidArgumentError('limit', 'expected a whole number, at least 1');
  }
  if (query.since !== undefined && !Number.isFinite(query.since)) {
    throw new InvalidArgumentError('since', 'expected a time in milliseconds');
  }
}
