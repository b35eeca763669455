import { InvalidArgumentError } from '../errors.js';
import { thrownMessage } from '../show.js';
import { validateAuditRecord } from './audit-lines.js';
import { type AuditRecord, auditFormatVersion } from './types.js';

/**
 * The record as the log keeps it, and its line: `v` and `seq` first, `nodeId` only
 * when there is one. Checked against the schema readers use, so that every record written
 * reads back; serialised now, so that a value JSON cannot hold (a BigInt, a cycle) fails at its
 * source rather than at the next flush, and later changes to the caller's objects do not leak in.
 */
export function newAuditRecord(
  record: Omit<AuditRecord, 'v' | 'seq'>,
  seq: number,
): { record: AuditRecord; line: string } {
  const full: AuditRecord = {
    v: auditFormatVersion,
    seq,
    at: record.at,
    type: record.type,
    ...(record.nodeId === undefined ? {} : { nodeId: record.nodeId }),
    data: record.data,
  };
  if (!validateAuditRecord(full)) {
    const error = validateAuditRecord.errors?.[0];
    throw new InvalidArgumentError(
      `audit record${error?.instancePath ? ` at ${error.instancePath}` : ''}`,
      error?.message ?? 'is invalid',
    );
  }
  try {
    return { record: full, line: `${JSON.stringify(full)}\n` };
  } catch (error) {
    throw new InvalidArgumentError(
      'audit record',
      `cannot be written as JSON (${thrownMessage(error)})`,
    );
  }
}
