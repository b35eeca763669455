import type { ActionProposal, FleetSnapshot } from '../types.js';

/** The `predictive` option: act on a load trend before it crosses the overload mark. */
export interface PredictiveOptions {
  /**
   * How many ticks of load the trend is fitted over (least squares).
   * @defaultValue 10
   */
  readonly windowTicks: number;
  /**
   * Act when the trend crosses `overload.high` within this long.
   * @defaultValue 10 × `tickMs`
   */
  readonly horizonMs: number;
}

/**
 * The last `size` samples of one value, one per tick, and the least-squares line through them.
 * With x = 0..n-1 the sums of x and x² are closed forms, so a fit is one pass over n samples.
 */
export class Trend {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;

  constructor(readonly size: number) {
    this.samples = new Float64Array(size);
  }

  add(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.size;
    if (this.count < this.size) this.count++;
  }

  reset(): void {
    this.count = 0;
    this.next = 0;
  }

  get full(): boolean {
    return this.count === this.size;
  }

  /** Slope per sample and the fitted value at the latest sample; undefined below 2 samples. */
  fit(): { slope: number; latest: number } | undefined {
    const n = this.count;
    if (n < 2) return undefined;
    const first = (this.next - n + this.size) % this.size;
    let sumY = 0;
    let sumXY = 0;
    for (let x = 0; x < n; x++) {
      const y = this.samples[(first + x) % this.size] as number;
      sumY += y;
      sumXY += x * y;
    }
    const sumX = (n * (n - 1)) / 2;
    const sumXX = ((n - 1) * n * (2 * n - 1)) / 6;
    const slope = (n * sumXY - sumX * sumY) / (n * sumXX - sumX * sumX);
    const intercept = (sumY - slope * sumX) / n;
    return { slope, latest: intercept + slope * (n - 1) };
  }

  /** How many samples from the latest until the fitted line reaches `mark`, if it rises to it. */
  samplesUntil(mark: number): number | undefined {
    const line = this.fit();
    if (line === undefined || !(line.slope > 0)) return undefined;
    return Math.max(0, (mark - line.latest) / line.slope);
  }
}

/**
 * Predictive overload: every online node's load is sampled each tick; a node whose fitted trend
 * reaches `overload.high` within the horizon, while still under it, gets one `reduce-load`
 * marked `predictive`, before healing would act. It is asked once per rise: again only after
 * the trend stops predicting a crossing. O(nodes × window) a tick, and only when enabled.
 */
export class LoadTrends {
  private readonly trends = new Map<string, Trend>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly options: PredictiveOptions,
    private readonly tickMs: number,
    private readonly high: number,
  ) {}

  observe(snapshot: FleetSnapshot): ActionProposal[] {
    const { tick, at } = snapshot;
    const horizonTicks = this.options.horizonMs / this.tickMs;
    const proposals: ActionProposal[] = [];
    for (const node of snapshot.nodes) {
      let trend = this.trends.get(node.id);
      if (trend === undefined) {
        trend = new Trend(this.options.windowTicks);
        this.trends.set(node.id, trend);
      }
      // Only a node that is online and beating has a trend worth fitting.
      if (node.state !== 'online' || node.lastHeartbeatAt === undefined) {
        trend.reset();
        this.warned.delete(node.id);
        continue;
      }
      trend.add(node.load);
      if (!trend.full || node.load >= this.high) continue;
      const ticks = trend.samplesUntil(this.high);
      if (ticks === undefined || ticks > horizonTicks) {
        this.warned.delete(node.id);
        continue;
      }
      if (this.warned.has(node.id)) continue;
      this.warned.add(node.id);
      const line = trend.fit() as { slope: number };
      const reason = `predictive: load ${node.load.toFixed(2)} rising ${line.slope.toFixed(3)} a tick reaches ${this.high} in about ${Math.ceil(ticks)} ticks`;
      proposals.push({
        origin: 'healing',
        action: { type: 'reduce-load', nodeId: node.id, reason, tick, at, predictive: true },
      });
    }
    return proposals;
  }

  forget(nodeId: string): void {
    this.trends.delete(nodeId);
    this.warned.delete(nodeId);
  }

  has(nodeId: string): boolean {
    return this.trends.has(nodeId) || this.warned.has(nodeId);
  }

  get size(): number {
    return this.trends.size;
  }
}
