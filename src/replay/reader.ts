import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { InvalidTraceError } from '../errors.js';
import { batchTag, decodeBatch } from './batch-codec.js';
import {
  readableTraceVersions,
  segmentNumber,
  type TraceEntry,
  type TraceHeader,
  traceFormat,
} from './format.js';

/** A part of a segment that could not be read: skipped, and the rest replayed. */
export interface TraceDamage {
  /** The segment's file name. */
  readonly file: string;
  /** The byte offset in the file where the unreadable part starts. */
  readonly offset: number;
  /** How many bytes were skipped from there. */
  readonly bytes: number;
  readonly problem: string;
}

/**
 * A trace to replay: its header and its entries in order. `readTrace` reads one from a
 * directory; a test can build one from an array (`{ header, entries: () => array }`).
 */
export interface Trace {
  readonly header: TraceHeader;
  /** The entries, oldest first; iterated once per replay. */
  entries(): Iterable<TraceEntry>;
  /** What could not be read, filled in as `entries()` goes. */
  readonly damage: TraceDamage[];
  /** The segments, by file name, and the numbers missing between them (dropped for space). */
  readonly segments: readonly string[];
}

/**
 * Opens the trace in `dir`. Segments are read one at a time as the entries are iterated, so a
 * long trace needs the memory of one segment.
 * @throws InvalidTraceError when `dir` holds no segment or its first is not a trace this release reads
 */
export function readTrace(dir: string): Trace {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new InvalidTraceError(dir, (error as Error).message);
  }
  const segments = names
    .filter((name) => segmentNumber(name) !== undefined)
    .sort((a, b) => (segmentNumber(a) as number) - (segmentNumber(b) as number));
  if (segments.length === 0) throw new InvalidTraceError(dir, 'no trace-<n>.ndjson.gz segment');
  const damage: TraceDamage[] = [];
  let header: TraceHeader | undefined;
  // The header of the first segment that can be read at all.
  for (const file of segments) {
    header = headerOf(dir, file);
    if (header !== undefined) break;
  }
  if (header === undefined) throw new InvalidTraceError(dir, 'no segment has a readable header');
  return {
    header,
    damage,
    segments,
    *entries() {
      for (const file of segments) yield* decodeSegment(dir, file, damage);
    },
  };
}

// The segment's entries, a gzip member at a time, so only one batch is parsed at once.
function* decodeSegment(dir: string, file: string, damage: TraceDamage[]): Generator<TraceEntry> {
  const bytes = readFileSync(join(dir, file));
  let header: TraceHeader | undefined;
  // The segment's node ids by index, as its binary batches define them (version 2).
  const ids: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const member = readMember(bytes, pos);
    if (typeof member === 'string') {
      const next = nextMember(bytes, pos + 1);
      damage.push({ file, offset: pos, bytes: next - pos, problem: member });
      pos = next;
      continue;
    }
    if (member.data[0] === batchTag) {
      const batch = decodeBatch(member.data, ids);
      if (typeof batch === 'string') {
        damage.push({ file, offset: pos, bytes: member.end - pos, problem: batch });
      } else {
        if (batch.orphans > 0) {
          // Their ids were defined in a batch that was skipped: nothing more to skip here.
          const problem = `${batch.orphans} heartbeats of nodes defined in a damaged batch`;
          damage.push({ file, offset: pos, bytes: 0, problem });
        }
        yield* batch.entries;
      }
      pos = member.end;
      continue;
    }
    const lines = parseLines(member.data.toString('utf8'));
    if (lines === undefined) {
      damage.push({ file, offset: pos, bytes: member.end - pos, problem: 'a line is not JSON' });
    } else {
      for (const line of lines) {
        if (Array.isArray(line)) yield line as unknown as TraceEntry;
        else if (header === undefined) header = checkedHeader(dir, file, line);
      }
    }
    pos = member.end;
  }
}

// The header of a segment, from its first readable member (undefined when none is).
function headerOf(dir: string, file: string): TraceHeader | undefined {
  const bytes = readFileSync(join(dir, file));
  let pos = 0;
  while (pos < bytes.length) {
    const member = readMember(bytes, pos);
    if (typeof member !== 'string') {
      const text = member.data.toString('utf8');
      const first = parseLines(text.slice(0, text.indexOf('\n') + 1));
      return first?.[0] === undefined ? undefined : checkedHeader(dir, file, first[0]);
    }
    pos = nextMember(bytes, pos + 1);
  }
  return undefined;
}

function checkedHeader(dir: string, file: string, line: unknown): TraceHeader {
  const header = line as Partial<TraceHeader> | null;
  if (header?.format !== traceFormat) {
    throw new InvalidTraceError(dir, `${file} is not a wyneos trace segment`);
  }
  if (!readableTraceVersions.includes(header.version as number)) {
    throw new InvalidTraceError(
      dir,
      `${file} is trace format version ${String(header.version)}; this release reads versions ${readableTraceVersions.join(' and ')}`,
    );
  }
  return header as TraceHeader;
}

// One gzip member at `pos` (as node:zlib writes them: a 10-byte header without options), or
// what is wrong with it. The trailer's CRC catches a damaged member that still inflates.
function readMember(bytes: Buffer, pos: number): { data: Buffer; end: number } | string {
  if (bytes.length - pos < 18) return 'truncated (shorter than a gzip member)';
  if (bytes[pos] !== 0x1f || bytes[pos + 1] !== 0x8b || bytes[pos + 2] !== 8) {
    return 'not the start of a gzip member';
  }
  if (bytes[pos + 3] !== 0) return 'a gzip member with header options this format does not use';
  let out: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    out = inflateRawSync(bytes.subarray(pos + 10), { info: true }) as unknown as typeof out;
  } catch (error) {
    return `${(error as Error).message}`;
  }
  const end = pos + 10 + out.engine.bytesWritten + 8;
  if (end > bytes.length) return 'truncated (no gzip trailer)';
  const trailer = end - 8;
  if (bytes.readUInt32LE(trailer) !== crc32(out.buffer)) return 'gzip checksum mismatch';
  if (bytes.readUInt32LE(trailer + 4) !== out.buffer.length % 2 ** 32) {
    return 'gzip length mismatch';
  }
  return { data: out.buffer, end };
}

// Where the next member might start, after damage: the next gzip magic, or the end.
function nextMember(bytes: Buffer, from: number): number {
  const at = bytes.indexOf(magic, from);
  return at < 0 ? bytes.length : at;
}

const magic = Buffer.from([0x1f, 0x8b, 0x08, 0x00]);

// One JSON.parse for the whole member (lines joined into an array) rather than one per line.
function parseLines(text: string): unknown[] | undefined {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body.length === 0) return [];
  try {
    return JSON.parse(`[${body.replaceAll('\n', ',')}]`) as unknown[];
  } catch {
    // Reported by the caller as damage at this member's offset.
    return undefined;
  }
}
