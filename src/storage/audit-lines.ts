import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { thrownMessage } from '../show.js';
import { storageError } from './durable.js';
import { isCode } from './layout.js';
import { type AuditRecord, auditFormatVersion } from './types.js';

const ajv = new Ajv({ allErrors: false, strict: true, strictNumbers: true });

/** The JSON Schema of one audit record (one line of `audit.jsonl`). */
export const auditRecordSchema = {
  $id: 'wyneos/audit-record',
  type: 'object',
  required: ['v', 'seq', 'at', 'type', 'data'],
  properties: {
    v: { type: 'integer', minimum: 1 },
    seq: { type: 'integer', minimum: 1 },
    at: { type: 'number' },
    type: { type: 'string', minLength: 1 },
    nodeId: { type: 'string' },
    data: { type: 'object' },
  },
} as const;

/** @internal Checks a record before it is written, so that everything written reads back. */
export const validateAuditRecord = ajv.compile<AuditRecord>(auditRecordSchema);

/** @internal What one audit file holds. */
export interface AuditScan {
  /** The records of the current format, in file order. */
  readonly records: AuditRecord[];
  /** The seq of the last well-formed record, of any format version. */
  readonly lastSeq: number | undefined;
  /**
   * Where a torn tail starts (bytes): the last line when it has no newline, together with any
   * lines just before it that are not records. It is what a crash mid-write leaves.
   */
  readonly tornAt: number | undefined;
  readonly size: number;
  /** Lines skipped before the tail (not records, or from a newer format), one message each. */
  readonly problems: string[];
}

/**
 * @internal Reads and scans one audit file; a file that does not exist scans as empty (a
 * rotation may have just moved it).
 */
export function scanAuditFile(file: string): AuditScan {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if (isCode(error, 'ENOENT')) bytes = Buffer.alloc(0);
    else throw storageError(file, 'read', error);
  }
  return scanAuditBytes(bytes, file);
}

/** @internal Splits an audit file into records, skipped lines and a torn tail. */
export function scanAuditBytes(bytes: Buffer, file: string): AuditScan {
  const records: AuditRecord[] = [];
  const problems: string[] = [];
  let lastSeq: number | undefined;
  // Lines that are not records are held back until a record follows them: only then are they
  // damage in the middle (reported, skipped); otherwise they are part of the torn tail.
  let held: { offset: number; problem: string }[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    if (end === -1) break;
    const line = parseLine(bytes.toString('utf8', start, end));
    if (line.kind === 'garbage') {
      held.push({ offset: start, problem: line.problem });
    } else {
      for (const h of held) problems.push(skipped(file, h.offset, h.problem));
      held = [];
      lastSeq = line.record.seq;
      if (line.kind === 'record') records.push(line.record);
      else
        problems.push(
          skipped(
            file,
            start,
            `written in audit format v${line.record.v}, newer than this release reads (v${auditFormatVersion})`,
          ),
        );
    }
    start = end + 1;
  }
  const tornAt = held[0]?.offset ?? (start < bytes.length ? start : undefined);
  return { records, lastSeq, tornAt, size: bytes.length, problems };
}

type Line =
  | { readonly kind: 'record' | 'newer'; readonly record: AuditRecord }
  | { readonly kind: 'garbage'; readonly problem: string };

function parseLine(text: string): Line {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'garbage', problem: `not valid JSON (${thrownMessage(error)})` };
  }
  if (!validateAuditRecord(value)) {
    const error = validateAuditRecord.errors?.[0];
    return {
      kind: 'garbage',
      problem: `not an audit record (${error?.instancePath || '/'} ${error?.message ?? 'is invalid'})`,
    };
  }
  return { kind: value.v > auditFormatVersion ? 'newer' : 'record', record: value };
}

function skipped(file: string, offset: number, problem: string): string {
  return `${file}: skipped the line at byte ${offset}: ${problem}`;
}

/** @internal The notice for a torn tail, whether the writer truncates it or a reader skips it. */
export function tornNotice(file: string, scan: AuditScan, action: 'truncated' | 'skipped'): string {
  const at = scan.tornAt ?? scan.size;
  return `${file}: ${action} a torn last line at byte ${at} (${scan.size - at} bytes, what a crash in the middle of a write leaves)`;
}
