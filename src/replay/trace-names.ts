import { heartbeatKind, type PendingBatch } from './pending-batch.js';

/**
 * @internal The recorder's names: node ids and metric names by index, for as long as the
 * recorder lives. A segment defines each id it uses once, a batch each metric name it uses, so
 * a reader of any segment can name what it reads.
 */
export class TraceNames {
  private readonly idIndex = new Map<string, number>();
  private readonly idList: string[] = [];
  // The segment each id was last defined in.
  private definedIn = new Float64Array(1024);
  private readonly metricIndex = new Map<string, number>();
  private readonly metricList: string[] = [];
  // The batch each metric name was last defined in.
  private readonly usedIn: number[] = [];
  private batches = 0;
  // The metric names of the last heartbeat, by position, and their indexes: agents send the same
  // names in the same order, so a name costs a comparison, not a map lookup.
  private readonly lastNames: string[] = [];
  private readonly lastIndexes: number[] = [];

  /** The index of node `id`. */
  node(id: string): number {
    const known = this.idIndex.get(id);
    if (known !== undefined) return known;
    const index = this.idList.push(id) - 1;
    this.idIndex.set(id, index);
    if (index === this.definedIn.length) {
      const grown = new Float64Array(index * 2);
      grown.set(this.definedIn);
      this.definedIn = grown;
    }
    return index;
  }

  /** The index of metric name `name`, the `k`th of its heartbeat. */
  metric(k: number, name: string): number {
    if (this.lastNames[k] === name) return this.lastIndexes[k] as number;
    let index = this.metricIndex.get(name);
    if (index === undefined) {
      index = this.metricList.push(name) - 1;
      this.metricIndex.set(name, index);
      this.usedIn.push(0);
    }
    this.lastNames[k] = name;
    this.lastIndexes[k] = index;
    return index;
  }

  /** The ids `batch` uses that `segment` has not defined yet, now counted as defined there. */
  idsNewTo(segment: number, batch: PendingBatch): Array<[number, string]> {
    const ids: Array<[number, string]> = [];
    const { nodes, kinds } = batch;
    for (let i = 0; i < batch.count; i++) {
      if (kinds[i] !== heartbeatKind) continue;
      const node = nodes[i] as number;
      if (this.definedIn[node] !== segment) {
        this.definedIn[node] = segment;
        ids.push([node, this.idList[node] as string]);
      }
    }
    return ids;
  }

  /** The metric names `batch` uses, each once: every batch defines its own. */
  metricsOf(batch: PendingBatch): Array<[number, string]> {
    const stamp = ++this.batches;
    const names: Array<[number, string]> = [];
    const { metricNames } = batch;
    for (let i = 0; i < batch.metricCount; i++) {
      const name = metricNames[i] as number;
      if (this.usedIn[name] === stamp) continue;
      this.usedIn[name] = stamp;
      names.push([name, this.metricList[name] as string]);
    }
    return names;
  }
}
