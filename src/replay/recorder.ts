import { appendFile, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../logger.js';
import type { Heartbeat, NodeRegistration } from '../telemetry/index.js';
import {
  type OperatorEntry,
  segmentName,
  segmentNumber,
  type TraceHeader,
  traceFormat,
  traceVersion,
} from './format.js';

const gzipAsync = promisify(gzip);

/** Where and how much a supervisor records (`createSupervisor({ record })`). */
export interface RecordOptions {
  /** The trace directory; created when missing. A trace already there is continued. */
  readonly dir: string;
  /**
   * The most bytes the trace may take on disk: once over, the oldest segments are dropped.
   * @defaultValue 1 GiB
   */
  readonly maxBytes?: number;
}

/** @internal What the recorder writes into each segment's header. */
export interface RecorderTerms {
  readonly tickMs: number;
  readonly heartbeatTimeoutMs: number;
}

export const defaultRecordMaxBytes = 1024 ** 3;
// A segment is closed at an eighth of the bound (within 4 KiB..64 MiB), so dropping the oldest
// one gives back a small part of the budget, not most of it.
const segmentShare = 8;

/** @internal When a batch is cut: this often (real time), or sooner once this many entries wait. */
export interface BatchTerms {
  readonly flushMs: number;
  readonly flushEntries: number;
  /** Entries serialised and not yet written, at most; past it the recording stops. */
  readonly maxQueued?: number;
}

const defaultBatch: BatchTerms = { flushMs: 200, flushEntries: 50_000 };
// A million heartbeats, some 100 MB of serialised text: far more than a working disk lags.
const defaultMaxQueued = 1_000_000;

/**
 * @internal The supervisor's recorder: `heartbeat` and the others only copy what they are given
 * into arrays, which is all an accepted heartbeat pays; serialising, compressing (gzip, on libuv's
 * thread pool) and writing happen later, a batch at a time, one write after another.
 */
export class TraceRecorder {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly terms: RecorderTerms;
  private readonly log: Logger;
  // The pending batch, as preallocated columns, so that recording a heartbeat allocates
  // nothing (a copy kept for 200 ms would reach the old generation and cost a major GC).
  private count = 0;
  private readonly times: Float64Array;
  private readonly kinds: Uint8Array;
  private readonly seqs: Float64Array;
  private readonly epochs: Float64Array;
  private readonly loads: Float64Array;
  // A heartbeat's node id and metrics; any other entry's kind letter and value.
  private readonly names: Array<string | undefined>;
  private readonly values: unknown[];
  private readonly known = new Map<string, NodeRegistration>();
  // The fleet as of the last cut, taken again only after a registration or deregistration.
  private knownList: readonly NodeRegistration[] = [];
  private knownStale = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  // Entries serialised and waiting for the disk: bounded (`maxQueued`), so a disk slower than
  // the fleet stops the trace instead of growing the heap without end.
  private queued = 0;
  private overrun = false;
  private segments: Array<{ n: number; bytes: number }> | undefined;
  private failed = false;
  // The first batch opens a segment of its own, even when continuing a trace found on disk.
  private fresh = true;

  constructor(
    options: RecordOptions,
    terms: RecorderTerms,
    log: Logger,
    private readonly batch: BatchTerms = defaultBatch,
  ) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? defaultRecordMaxBytes;
    this.segmentBytes = Math.min(64 * 1024 ** 2, Math.max(4096, this.maxBytes / segmentShare));
    this.terms = terms;
    this.log = log;
    const size = batch.flushEntries;
    this.times = new Float64Array(size);
    this.kinds = new Uint8Array(size);
    this.seqs = new Float64Array(size);
    this.epochs = new Float64Array(size);
    this.loads = new Float64Array(size);
    this.names = new Array(size).fill(undefined);
    this.values = new Array(size).fill(undefined);
  }

  heartbeat(beat: Heartbeat, at: number): void {
    // Copied field by field: a caller may reuse its heartbeat object for the next one.
    const i = this.count;
    this.kinds[i] = heartbeatKind;
    this.names[i] = beat.nodeId;
    this.seqs[i] = beat.seq;
    this.epochs[i] = beat.epoch ?? 0;
    this.loads[i] = beat.load;
    this.values[i] = beat.metrics;
    this.pushed(at);
  }

  register(registrations: readonly NodeRegistration[], at: number): void {
    for (const { id, labels, version } of registrations) {
      // The licence stays out: replay does not check licences, and a trace should hold no secret.
      const kept: NodeRegistration = {
        id,
        ...(labels === undefined ? {} : { labels }),
        ...(version === undefined ? {} : { version }),
      };
      this.known.set(id, kept);
      this.knownStale = true;
      this.push(at, 'r', kept);
    }
  }

  deregister(nodeId: string, at: number): void {
    this.known.delete(nodeId);
    this.knownStale = true;
    this.push(at, 'd', nodeId);
  }

  operator(command: OperatorEntry[2], nodeId: string, value: unknown, at: number): void {
    this.push(at, 'o', [command, nodeId, value]);
  }

  /** Writes what waits and resolves once every batch is on disk. */
  close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.cut();
    return this.writing;
  }

  private push(at: number, kind: string, value: unknown): void {
    const i = this.count;
    this.kinds[i] = otherKind;
    this.names[i] = kind;
    this.values[i] = value;
    this.pushed(at);
  }

  private pushed(at: number): void {
    this.times[this.count++] = at;
    if (this.count >= this.batch.flushEntries) {
      this.cut();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.cut();
      }, this.batch.flushMs);
      this.timer.unref();
    }
  }

  // Takes the pending entries as one batch and queues its write behind the previous one.
  private cut(): void {
    if (this.count === 0) return;
    if (
      this.failed ||
      this.overrun ||
      this.queued + this.count > (this.batch.maxQueued ?? defaultMaxQueued)
    ) {
      this.count = 0;
      this.values.fill(undefined);
      if (!this.failed && !this.overrun) {
        // What is queued is still written: the trace ends whole, at the last batch taken.
        this.overrun = true;
        this.log.error(
          { error: 'the disk does not keep up with the fleet', dir: this.dir },
          'trace recording stopped',
        );
      }
      return;
    }
    if (this.knownStale) {
      this.knownList = [...this.known.values()];
      this.knownStale = false;
    }
    const known = this.knownList;
    const entries = this.count;
    const lines = this.serialise();
    this.queued += entries;
    this.writing = this.writing
      .then(() => this.write(lines, known))
      .finally(() => {
        this.queued -= entries;
      });
  }

  // Each line goes straight into an off-heap buffer, so no long string of the whole batch is
  // built on the heap (its pieces would outlive a scavenge and cost a major GC).
  private serialise(): Buffer {
    const { times, kinds, names, values } = this;
    let out = Buffer.allocUnsafe(this.count * 128);
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      const name = names[i] as string;
      const value = values[i];
      let line: string;
      if (kinds[i] === heartbeatKind) {
        line = `[${times[i]},"h",{"nodeId":"${name}","seq":${this.seqs[i]},"epoch":${this.epochs[i]},"load":${this.loads[i]}${value === undefined ? '}]\n' : `,"metrics":${JSON.stringify(value)}}]\n`}`;
      } else {
        const rest =
          name === 'o' ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value ?? null);
        line = `[${times[i]},"${name}",${rest}]\n`;
      }
      values[i] = undefined; // not kept alive until overwritten
      // A line's UTF-8 is at most three bytes per UTF-16 unit.
      if (out.length - at < line.length * 3) {
        const grown = Buffer.allocUnsafe(Math.max(out.length * 2, at + line.length * 3));
        out.copy(grown, 0, 0, at);
        out = grown;
      }
      at += out.write(line, at, 'utf8');
    }
    this.count = 0;
    return out.subarray(0, at);
  }

  private async write(lines: Buffer, known: readonly NodeRegistration[]): Promise<void> {
    if (this.failed) return;
    try {
      const segments = await this.openSegments();
      let current = segments[segments.length - 1];
      let text: Buffer = lines;
      if (current === undefined || this.fresh || current.bytes >= this.segmentBytes) {
        this.fresh = false;
        current = { n: (current?.n ?? 0) + 1, bytes: 0 };
        segments.push(current);
        const header: TraceHeader = {
          format: traceFormat,
          version: traceVersion,
          segment: current.n,
          ...this.terms,
        };
        // The fleet as it was when this batch began (known is taken when the batch is cut, so
        // it is read back before the batch's own registrations).
        const first = Number(lines.toString('latin1', 1, lines.indexOf(',')));
        let carried = '';
        const inBatch = new Set(registeredIn(lines.toString('utf8')));
        for (const node of known) {
          if (!inBatch.has(node.id)) carried += `[${first},"k",${JSON.stringify(node)}]\n`;
        }
        text = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n${carried}`), lines]);
      }
      // Level 1: a third of the default's time for about 10% more bytes; a trace is written far
      // more often than it is read.
      const packed = await gzipAsync(text, { level: 1 });
      await appendFile(join(this.dir, segmentName(current.n)), packed);
      current.bytes += packed.length;
      await this.dropOldest(segments);
    } catch (error) {
      // Recording is an observer: a full disk stops the trace, never the supervisor.
      this.failed = true;
      this.log.error({ error: (error as Error).message, dir: this.dir }, 'trace recording stopped');
    }
  }

  private async openSegments(): Promise<Array<{ n: number; bytes: number }>> {
    if (this.segments !== undefined) return this.segments;
    await mkdir(this.dir, { recursive: true });
    const found: Array<{ n: number; bytes: number }> = [];
    for (const name of await readdir(this.dir)) {
      const n = segmentNumber(name);
      if (n !== undefined) found.push({ n, bytes: (await stat(join(this.dir, name))).size });
    }
    found.sort((a, b) => a.n - b.n);
    this.segments = found;
    return found;
  }

  private async dropOldest(segments: Array<{ n: number; bytes: number }>): Promise<void> {
    let total = 0;
    for (const s of segments) total += s.bytes;
    while (total > this.maxBytes && segments.length > 1) {
      const oldest = segments.shift() as { n: number; bytes: number };
      total -= oldest.bytes;
      await unlink(join(this.dir, segmentName(oldest.n)));
    }
  }
}

const heartbeatKind = 0;
const otherKind = 1;
// The ids this batch registers: carried registrations must not repeat them.
function registeredIn(lines: string): string[] {
  const ids: string[] = [];
  for (const line of lines.split('\n')) {
    if (line.includes(',"r",')) ids.push((JSON.parse(line)[2] as NodeRegistration).id);
  }
  return ids;
}
