import type { Heartbeat } from '../telemetry/index.js';
import type { TraceEntry } from './format.js';

/**
 * A recorded batch as columns (trace format version 2, docs/replay.md): what the recorder's
 * main thread fills, a store per field, and what is encoded as one binary gzip member.
 * `kinds[i]` is 0 for a heartbeat, 1 for any other entry (those are in `others`, in order).
 */
export interface BatchColumns {
  readonly count: number;
  readonly times: Float64Array;
  readonly kinds: Uint8Array;
  /** Node ids as indexes into the recorder's id list. */
  readonly nodes: Uint32Array;
  readonly seqs: Float64Array;
  readonly epochs: Float64Array;
  readonly loads: Float64Array;
  /** Metrics per entry, or {@link noMetrics} for a heartbeat without them. */
  readonly metricCounts: Uint32Array;
  readonly metricNames: Uint32Array;
  readonly metricValues: Float64Array;
  /** The entries that are not heartbeats, whole, in order. */
  readonly others: readonly TraceEntry[];
}

/** The first byte of a binary batch; a JSON member starts with `{` or `[`. */
export const batchTag = 2;
export const noMetrics = 0xffffffff;
const headerBytes = 16;

/**
 * One buffer: a 16-byte header (tag, entries, metric values, text bytes, little-endian u32),
 * then the float64 columns (times, seqs, epochs, loads, metric values), the uint32 columns
 * (nodes, metric counts, metric names), the kinds (u8), and a JSON text: the id and metric
 * name definitions this batch adds, and the other entries. Written into `into` (and a view of it
 * returned) when it is large enough, so a writer can reuse one buffer for every batch.
 */
export function encodeBatch(
  b: BatchColumns,
  ids: ReadonlyArray<readonly [number, string]>,
  metricNames: ReadonlyArray<readonly [number, string]>,
  into?: Buffer,
): Buffer {
  const n = b.count;
  const m = b.metricValues.length;
  const text = JSON.stringify({ ids, metrics: metricNames, entries: b.others });
  const textBytes = Buffer.byteLength(text);
  const size = batchBytes(n, m) + textBytes;
  const out =
    into !== undefined && into.length >= size ? into.subarray(0, size) : Buffer.alloc(size);
  out.writeUInt32LE(batchTag, 0);
  out.writeUInt32LE(n, 4);
  out.writeUInt32LE(m, 8);
  out.writeUInt32LE(textBytes, 12);
  let at = headerBytes;
  for (const column of [
    b.times.subarray(0, n),
    b.seqs.subarray(0, n),
    b.epochs.subarray(0, n),
    b.loads.subarray(0, n),
    b.metricValues,
    b.nodes.subarray(0, n),
    b.metricCounts.subarray(0, n),
    b.metricNames,
    b.kinds.subarray(0, n),
  ]) {
    out.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), at);
    at += column.byteLength;
  }
  out.write(text, at, 'utf8');
  return out;
}

/** The bytes {@link encodeBatch} needs for a batch of `entries` and `metrics`, its text aside. */
export function batchBytes(entries: number, metrics: number): number {
  return headerBytes + 8 * (4 * entries + metrics) + 4 * (2 * entries + metrics) + entries;
}

/**
 * The entries of a binary batch, or what is wrong with it. `ids` is the segment's id table:
 * this batch's definitions are added to it. A heartbeat whose id was defined in a batch that
 * could not be read is left out and counted in `orphans`.
 */
export function decodeBatch(
  bytes: Buffer,
  ids: string[],
): { entries: TraceEntry[]; orphans: number } | string {
  if (bytes.length < headerBytes) return 'a heartbeat batch shorter than its header';
  const n = bytes.readUInt32LE(4);
  const m = bytes.readUInt32LE(8);
  const textBytes = bytes.readUInt32LE(12);
  if (bytes.length !== batchBytes(n, m) + textBytes) {
    return 'a heartbeat batch whose length does not match its header';
  }
  // Typed views need aligned offsets: copy once when the inflated buffer is not.
  const data = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(bytes);
  let at = data.byteOffset + headerBytes;
  const f64 = (length: number) => {
    const view = new Float64Array(data.buffer, at, length);
    at += 8 * length;
    return view;
  };
  const u32 = (length: number) => {
    const view = new Uint32Array(data.buffer, at, length);
    at += 4 * length;
    return view;
  };
  const [times, seqs, epochs, loads, values] = [f64(n), f64(n), f64(n), f64(n), f64(m)];
  const [nodes, counts, names] = [u32(n), u32(n), u32(m)];
  const kinds = new Uint8Array(data.buffer, at, n);
  at += n;
  let text: { ids: [number, string][]; metrics: [number, string][]; entries: TraceEntry[] };
  try {
    text = JSON.parse(Buffer.from(data.buffer, at, textBytes).toString('utf8'));
  } catch {
    return 'a heartbeat batch whose text is not JSON';
  }
  for (const [i, id] of text.ids) ids[i] = id;
  const metricNames: string[] = [];
  for (const [i, name] of text.metrics) metricNames[i] = name;
  const entries: TraceEntry[] = [];
  let other = 0;
  let metric = 0;
  let orphans = 0;
  for (let i = 0; i < n; i++) {
    if (kinds[i] !== 0) {
      const entry = text.entries[other++];
      if (entry === undefined) return 'a heartbeat batch with fewer entries than its kinds';
      entries.push(entry);
      continue;
    }
    const count = counts[i] as number;
    let metrics: Record<string, number> | undefined;
    if (count !== noMetrics) {
      metrics = {};
      for (const end = metric + count; metric < end; metric++) {
        const name = metricNames[names[metric] as number];
        if (name === undefined) return 'a heartbeat batch with an undefined metric name';
        // A plain store would set the prototype for a metric named `__proto__`.
        if (name === '__proto__') {
          Object.defineProperty(metrics, name, {
            value: values[metric],
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else metrics[name] = values[metric] as number;
      }
    }
    const nodeId = ids[nodes[i] as number];
    if (nodeId === undefined) {
      orphans++;
      continue;
    }
    // Two literal shapes rather than a spread: replay builds millions of these.
    const seq = seqs[i] as number;
    const epoch = epochs[i] as number;
    const load = loads[i] as number;
    const beat: Heartbeat =
      metrics === undefined ? { nodeId, seq, epoch, load } : { nodeId, seq, epoch, load, metrics };
    entries.push([times[i] as number, 'h', beat]);
  }
  return { entries, orphans };
}
