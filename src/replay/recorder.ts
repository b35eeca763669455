import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../logger.js';
import type { Heartbeat, NodeRegistration } from '../telemetry/index.js';
import { batchBytes, encodeBatch, noMetrics } from './batch-codec.js';
import {
  type OperatorEntry,
  type TraceEntry,
  type TraceHeader,
  traceFormat,
  traceVersion,
} from './format.js';
import { heartbeatKind, otherKind, PendingBatch } from './pending-batch.js';
import { SegmentFiles } from './segment-files.js';
import { TraceNames } from './trace-names.js';

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

/** @internal Where a caller keeps a node's id index for the recorder: -1 until it is known. */
export interface TracedNode {
  traced: number;
}

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
 * into preallocated columns, which is all an accepted heartbeat pays; encoding, compressing (gzip,
 * on libuv's thread pool) and writing happen later, a batch at a time, one write after another.
 */
export class TraceRecorder {
  private readonly dir: string;
  private readonly terms: RecorderTerms;
  private readonly log: Logger;
  private readonly files: SegmentFiles;
  // The batch being filled, and sets already written, kept to be filled again: two in the
  // steady state (one filling while the other is written), so batches make no garbage.
  private pending: PendingBatch;
  private readonly spare: PendingBatch[] = [];
  // One buffer every batch is encoded into: the writes run one at a time, and each is done with
  // it once gzip has read it.
  private encoded: Buffer;
  private readonly names = new TraceNames();
  private readonly known = new Map<string, NodeRegistration>();
  // The fleet as of the last cut, taken again only after a registration or deregistration.
  private knownList: readonly NodeRegistration[] = [];
  private knownStale = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  // Entries taken and not yet written, at most `maxQueued`: a disk slower than the fleet stops
  // the trace instead of growing the heap without end.
  private queued = 0;
  private overrun = false;
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
    const maxBytes = options.maxBytes ?? defaultRecordMaxBytes;
    const segmentBytes = Math.min(64 * 1024 ** 2, Math.max(4096, maxBytes / segmentShare));
    this.files = new SegmentFiles(this.dir, maxBytes, segmentBytes);
    this.terms = terms;
    this.log = log;
    this.pending = new PendingBatch(batch.flushEntries);
    // The columns of a full batch with four metrics a heartbeat, and room for its text.
    const entries = batch.flushEntries;
    this.encoded = Buffer.allocUnsafe(batchBytes(entries, entries * 4) + 64 * 1024);
  }

  /**
   * Records an accepted heartbeat. `node` is where the caller keeps the node's id index for the
   * recorder (the supervisor's record of the node), so that a heartbeat costs a field read, not
   * a lookup in a map of the whole fleet; it must belong to `beat.nodeId` alone.
   */
  heartbeat(beat: Heartbeat, at: number, node?: TracedNode): void {
    // Copied field by field: a caller may reuse its heartbeat object for the next one.
    const b = this.pending;
    const i = b.count;
    b.kinds[i] = heartbeatKind;
    let index = node === undefined ? -1 : node.traced;
    if (index < 0) {
      index = this.names.node(beat.nodeId);
      if (node !== undefined) node.traced = index;
    }
    b.nodes[i] = index;
    b.seqs[i] = beat.seq;
    b.epochs[i] = beat.epoch ?? 0;
    b.loads[i] = beat.load;
    const metrics = beat.metrics;
    if (metrics === undefined) {
      b.metricCounts[i] = noMetrics;
    } else {
      const first = b.metricCount;
      let m = first;
      let k = 0;
      for (const name in metrics) {
        if (m === b.metricValues.length) b.growMetrics();
        b.metricNames[m] = this.names.metric(k, name);
        b.metricValues[m++] = metrics[name] as number;
        k++;
      }
      b.metricCounts[i] = m - first;
      b.metricCount = m;
    }
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

  /** Writes what waits and resolves once every batch is on disk and the segment closed. */
  close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.cut();
    this.writing = this.writing.then(() => this.files.close()).catch(() => undefined);
    return this.writing;
  }

  private push(entry: TraceEntry): void {
    const b = this.pending;
    b.kinds[b.count] = otherKind;
    b.others.push(entry);
    this.pushed(entry[0]);
  }

  private pushed(at: number): void {
    const b = this.pending;
    b.times[b.count++] = at;
    if (b.count >= this.batch.flushEntries) {
      this.cut();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.cut();
      }, this.batch.flushMs);
      this.timer.unref();
    }
  }

  // Takes the pending batch whole and queues its write behind the previous one; a spare set of
  // columns (or a new one, while the disk lags) takes its place.
  private cut(): void {
    const batch = this.pending;
    const entries = batch.count;
    if (entries === 0) return;
    if (
      this.failed ||
      this.overrun ||
      this.queued + entries > (this.batch.maxQueued ?? defaultMaxQueued)
    ) {
      batch.clear();
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
    this.pending = this.spare.pop() ?? new PendingBatch(this.batch.flushEntries);
    this.queued += entries;
    this.writing = this.writing
      .then(() => this.write(batch, known))
      .finally(() => {
        this.queued -= entries;
      });
  }

  // The columns go back to the spares once encoded; beyond two, to the collector.
  private release(batch: PendingBatch): void {
    batch.clear();
    if (this.spare.length < 2) this.spare.push(batch);
  }

  // The batch's binary member, defining the ids this segment has not seen and its metric names.
  private encode(batch: PendingBatch, segment: number): Buffer {
    const ids = this.names.idsNewTo(segment, batch);
    const names = this.names.metricsOf(batch);
    const out = encodeBatch(batch.columns(), ids, names, this.encoded);
    // A batch larger than the buffer had one of its own: the next ones reuse that size.
    if (out.buffer !== this.encoded.buffer) this.encoded = Buffer.from(out.buffer);
    return out;
  }

  private async write(batch: PendingBatch, known: readonly NodeRegistration[]): Promise<void> {
    if (this.failed) return this.release(batch);
    try {
      const segment = await this.files.next(this.fresh);
      this.fresh = false;
      let head: Buffer | undefined;
      if (segment.opened) {
        const header: TraceHeader = {
          format: traceFormat,
          version: traceVersion,
          segment: segment.n,
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
      const encoded = this.encode(batch, segment.n);
      this.release(batch);
      // Level 1: a third of the default's time for about 10% more bytes; a trace is written far
      // more often than it is read. A 4 KiB window, not 32: columns repeat at short range if at
      // all, so it compresses as well in about 30% less time (any inflater reads it). Output in
      // chunks of a quarter of the input, not 16 KiB: a few thread-pool round trips a batch.
      const body = await gzipAsync(encoded, {
        level: 1,
        windowBits: 12,
        chunkSize: gzipChunk(encoded.length),
      });
      await this.files.append(head === undefined ? body : Buffer.concat([head, body]));
    } catch (error) {
      // Recording is an observer: a full disk stops the trace, never the supervisor.
      this.failed = true;
      this.log.error({ error: (error as Error).message, dir: this.dir }, 'trace recording stopped');
    }
  }
}

// zlib's default output chunk is 16 KiB; its largest useful one here, a quarter of the input.
function gzipChunk(inputBytes: number): number {
  return Math.max(16 * 1024, Math.min(4 * 1024 ** 2, inputBytes >>> 2));
}

// The ids this batch registers: carried registrations must not repeat them.
function registeredIn(entries: readonly TraceEntry[]): string[] {
  const ids: string[] = [];
  for (const entry of entries) if (entry[1] === 'r') ids.push(entry[2].id);
  return ids;
}
