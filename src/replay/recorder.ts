import { appendFile, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../logger.js';
import type { Heartbeat, NodeRegistration } from '../telemetry/index.js';
import { type BatchColumns, encodeBatch, noMetrics } from './batch-codec.js';
import {
  type OperatorEntry,
  segmentName,
  segmentNumber,
  type TraceEntry,
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
  private readonly nodes: Uint32Array;
  private readonly seqs: Float64Array;
  private readonly epochs: Float64Array;
  private readonly loads: Float64Array;
  private readonly metricCounts: Uint32Array;
  private metricNames: Uint32Array;
  private metricValues: Float64Array;
  private metricCount = 0;
  private others: TraceEntry[] = [];
  // Node ids and metric names by index, for as long as the recorder lives; a segment defines
  // each id it uses once (`definedIn`), a batch each metric name it uses.
  private readonly idIndex = new Map<string, number>();
  private readonly idList: string[] = [];
  private definedIn = new Float64Array(1024);
  private readonly metricIndex = new Map<string, number>();
  private readonly metricList: string[] = [];
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
    this.nodes = new Uint32Array(size);
    this.seqs = new Float64Array(size);
    this.epochs = new Float64Array(size);
    this.loads = new Float64Array(size);
    this.metricCounts = new Uint32Array(size);
    this.metricNames = new Uint32Array(size * 4);
    this.metricValues = new Float64Array(size * 4);
  }

  heartbeat(beat: Heartbeat, at: number): void {
    // Copied field by field: a caller may reuse its heartbeat object for the next one.
    const i = this.count;
    this.kinds[i] = heartbeatKind;
    let node = this.idIndex.get(beat.nodeId);
    if (node === undefined) node = this.newId(beat.nodeId);
    this.nodes[i] = node;
    this.seqs[i] = beat.seq;
    this.epochs[i] = beat.epoch ?? 0;
    this.loads[i] = beat.load;
    const metrics = beat.metrics;
    if (metrics === undefined) {
      this.metricCounts[i] = noMetrics;
    } else {
      let m = this.metricCount;
      for (const name in metrics) {
        if (m === this.metricValues.length) this.growMetrics();
        let index = this.metricIndex.get(name);
        if (index === undefined) {
          index = this.metricList.push(name) - 1;
          this.metricIndex.set(name, index);
        }
        this.metricNames[m] = index;
        this.metricValues[m++] = metrics[name] as number;
      }
      this.metricCounts[i] = m - this.metricCount;
      this.metricCount = m;
    }
    this.pushed(at);
  }

  private newId(id: string): number {
    const index = this.idList.push(id) - 1;
    this.idIndex.set(id, index);
    if (index === this.definedIn.length) {
      const grown = new Float64Array(index * 2);
      grown.set(this.definedIn);
      this.definedIn = grown;
    }
    return index;
  }

  private growMetrics(): void {
    const names = new Uint32Array(this.metricNames.length * 2);
    names.set(this.metricNames);
    this.metricNames = names;
    const values = new Float64Array(this.metricValues.length * 2);
    values.set(this.metricValues);
    this.metricValues = values;
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
      this.push([at, 'r', kept]);
    }
  }

  deregister(nodeId: string, at: number): void {
    this.known.delete(nodeId);
    this.knownStale = true;
    this.push([at, 'd', nodeId]);
  }

  operator(command: OperatorEntry[2], nodeId: string, value: unknown, at: number): void {
    this.push([at, 'o', command, nodeId, value] as OperatorEntry);
  }

  /** Writes what waits and resolves once every batch is on disk. */
  close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.cut();
    return this.writing;
  }

  private push(entry: TraceEntry): void {
    this.kinds[this.count] = otherKind;
    this.others.push(entry);
    this.pushed(entry[0]);
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
      this.reset();
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
    const batch = this.take();
    this.queued += entries;
    this.writing = this.writing
      .then(() => this.write(batch, known))
      .finally(() => {
        this.queued -= entries;
      });
  }

  // The pending columns, copied (one memcpy each), so the next batch can fill them.
  private take(): BatchColumns {
    const n = this.count;
    const m = this.metricCount;
    const batch: BatchColumns = {
      count: n,
      times: this.times.slice(0, n),
      kinds: this.kinds.slice(0, n),
      nodes: this.nodes.slice(0, n),
      seqs: this.seqs.slice(0, n),
      epochs: this.epochs.slice(0, n),
      loads: this.loads.slice(0, n),
      metricCounts: this.metricCounts.slice(0, n),
      metricNames: this.metricNames.slice(0, m),
      metricValues: this.metricValues.slice(0, m),
      others: this.others,
    };
    this.reset();
    return batch;
  }

  private reset(): void {
    this.count = 0;
    this.metricCount = 0;
    this.others = [];
  }

  // The batch's binary member, defining the ids this segment has not seen and its metric names.
  private encode(batch: BatchColumns, segment: number): Buffer {
    const ids: Array<[number, string]> = [];
    const used = new Set<number>();
    const { nodes, kinds, metricNames } = batch;
    for (let i = 0; i < batch.count; i++) {
      if (kinds[i] !== heartbeatKind) continue;
      const node = nodes[i] as number;
      if (this.definedIn[node] !== segment) {
        this.definedIn[node] = segment;
        ids.push([node, this.idList[node] as string]);
      }
    }
    for (const name of metricNames) used.add(name);
    const names = [...used].map((m): [number, string] => [m, this.metricList[m] as string]);
    return encodeBatch(batch, ids, names);
  }

  private async write(batch: BatchColumns, known: readonly NodeRegistration[]): Promise<void> {
    if (this.failed) return;
    try {
      const segments = await this.openSegments();
      let current = segments[segments.length - 1];
      let head: Buffer | undefined;
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
        const first = batch.times[0] as number;
        let carried = '';
        const inBatch = new Set(registeredIn(batch.others));
        for (const node of known) {
          if (!inBatch.has(node.id)) carried += `[${first},"k",${JSON.stringify(node)}]\n`;
        }
        // The header and carried fleet as JSON lines, a gzip member of their own.
        head = await gzipAsync(`${JSON.stringify(header)}\n${carried}`, { level: 1 });
      }
      // Level 1: a third of the default's time for about 10% more bytes; a trace is written far
      // more often than it is read.
      const body = await gzipAsync(this.encode(batch, current.n), { level: 1 });
      const packed = head === undefined ? body : Buffer.concat([head, body]);
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
function registeredIn(entries: readonly TraceEntry[]): string[] {
  const ids: string[] = [];
  for (const entry of entries) if (entry[1] === 'r') ids.push(entry[2].id);
  return ids;
}
