import type { BatchColumns } from './batch-codec.js';
import type { TraceEntry } from './format.js';

/** @internal The kinds of entry in a batch's `kinds` column (batch-codec.ts reads them). */
export const heartbeatKind = 0;
/** @internal Any entry but a heartbeat: those are kept in `others`, in order. */
export const otherKind = 1;

/**
 * @internal One batch's columns, preallocated for `capacity` entries: the recorder fills them in
 * place (recording a heartbeat allocates nothing), hands the whole set to the writer when the
 * batch is cut, and takes it back once the writer has encoded it. A set kept for reuse stays
 * off-heap and out of the young generation, so a batch costs no copy and no garbage.
 */
export class PendingBatch {
  count = 0;
  readonly times: Float64Array;
  readonly kinds: Uint8Array;
  readonly nodes: Uint32Array;
  readonly seqs: Float64Array;
  readonly epochs: Float64Array;
  readonly loads: Float64Array;
  readonly metricCounts: Uint32Array;
  metricNames: Uint32Array;
  metricValues: Float64Array;
  metricCount = 0;
  others: TraceEntry[] = [];

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.nodes = new Uint32Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.epochs = new Float64Array(capacity);
    this.loads = new Float64Array(capacity);
    this.metricCounts = new Uint32Array(capacity);
    // Four metrics a heartbeat to start with (the common agent's); doubled when more come.
    this.metricNames = new Uint32Array(capacity * 4);
    this.metricValues = new Float64Array(capacity * 4);
  }

  /** Makes room for one more metric value. */
  growMetrics(): void {
    const names = new Uint32Array(this.metricNames.length * 2);
    names.set(this.metricNames);
    this.metricNames = names;
    const values = new Float64Array(this.metricValues.length * 2);
    values.set(this.metricValues);
    this.metricValues = values;
  }

  /** The filled part as the codec reads it: views, not copies. */
  columns(): BatchColumns {
    const n = this.count;
    const m = this.metricCount;
    return {
      count: n,
      times: this.times.subarray(0, n),
      kinds: this.kinds.subarray(0, n),
      nodes: this.nodes.subarray(0, n),
      seqs: this.seqs.subarray(0, n),
      epochs: this.epochs.subarray(0, n),
      loads: this.loads.subarray(0, n),
      metricCounts: this.metricCounts.subarray(0, n),
      metricNames: this.metricNames.subarray(0, m),
      metricValues: this.metricValues.subarray(0, m),
      others: this.others,
    };
  }

  /** Empties the set for the next batch (the values stay; `count` says what is filled). */
  clear(): void {
    this.count = 0;
    this.metricCount = 0;
    this.others = [];
  }
}
