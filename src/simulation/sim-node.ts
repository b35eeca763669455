import type { Labels, NodeState } from '../types.js';
import type { SeededRandom } from './random.js';

interface Window {
  readonly from: number;
  readonly until: number;
}

/**
 * One simulated node: how it beats, what load it reports and how its heartbeats travel, with
 * the faults currently acting on it. The simulator's ground truth about the node lives here.
 */
export class SimNode {
  /** False once admission refused it: it is outside the fleet and beats into the void. */
  registered = true;
  /** Its lifecycle state as the supervisor's transitions say; undefined when not registered. */
  state: NodeState | undefined = 'online';
  seq = 0;
  nextSendAt: number;
  /** When the supervisor last accepted one of its heartbeats (or registered it). */
  lastAcceptedAt = 0;
  labels: Labels;
  version: string;

  crashed = false;
  /** Partitions can overlap: the node is cut off while any holds. */
  partitions = 0;
  overload: (Window & { readonly rampMs: number; readonly peak: number }) | undefined;
  flap: (Window & { readonly upMs: number; readonly downMs: number }) | undefined;
  jitter: (Window & { readonly maxDelayMs: number; readonly lossRate: number }) | undefined;
  slow: (Window & { readonly factor: number }) | undefined;
  badUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly id: string,
    /** Its normal beat period; each node's clock runs a little fast or slow. */
    readonly intervalMs: number,
    /** The load it runs at when nothing is wrong. */
    readonly baseLoad: number,
    readonly baseMem: number,
    identity: { readonly labels: Labels; readonly version: string },
    firstBeatAt: number,
  ) {
    this.labels = identity.labels;
    this.version = identity.version;
    this.nextSendAt = firstBeatAt;
  }

  /** Whether the process is up and beating at `t` (a crash or a flap's down phase stops it). */
  beatsAt(t: number): boolean {
    if (this.crashed) return false;
    const flap = this.flap;
    if (flap !== undefined && t >= flap.from && t < flap.until) {
      // A flap starts by going away, then comes back for upMs, and so on.
      return (t - flap.from) % (flap.upMs + flap.downMs) >= flap.downMs;
    }
    return true;
  }

  /** The period until its next beat, stretched while it runs slow. */
  intervalAt(t: number): number {
    const slow = this.slow;
    return slow !== undefined && t >= slow.from && t < slow.until
      ? this.intervalMs * slow.factor
      : this.intervalMs;
  }

  loadAt(t: number, random: SeededRandom): number {
    const noise = random.between(-0.05, 0.05);
    let load = this.baseLoad + noise;
    const o = this.overload;
    if (o !== undefined && t >= o.from && t < o.until) {
      const rampUp = o.rampMs === 0 ? 1 : (t - o.from) / o.rampMs;
      const rampDown = o.rampMs === 0 ? 1 : (o.until - t) / o.rampMs;
      const share = Math.min(1, rampUp, rampDown);
      load = load + (o.peak + noise / 5 - load) * share;
    }
    return Math.min(1, Math.max(0, Math.round(load * 1000) / 1000));
  }

  /**
   * How long a heartbeat sent at `t` takes to arrive, or -1 if it is lost (a partition, or
   * jitter's losses). `baseDelayMs` is the network's usual delay.
   */
  delayAt(t: number, baseDelayMs: number, random: SeededRandom): number {
    if (this.partitions > 0) return -1;
    let delay = 1 + random.int(0, baseDelayMs);
    const j = this.jitter;
    if (j !== undefined && t >= j.from && t < j.until) {
      if (random.chance(j.lossRate)) return -1;
      delay += random.int(0, j.maxDelayMs);
    }
    return delay;
  }
}
