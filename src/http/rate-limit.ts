import type { Clock } from '../clock.js';

/** How fast one node may send heartbeats: a token bucket per node. */
export interface HeartbeatRate {
  /** Heartbeats a second a node may keep up. */
  readonly perSecond: number;
  /** How many it may send at once after a quiet spell. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per node id. Buckets are made only for registered nodes (the routes check
 * first), so the map is bounded by the fleet; the DELETE route forgets a node's bucket.
 */
export class HeartbeatLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: HeartbeatRate,
    private readonly clock: Clock,
  ) {}

  /** 0 when `nodeId` may send one more heartbeat now, else the ms until it may. Takes nothing. */
  waitMs(nodeId: string): number {
    const bucket = this.refill(nodeId);
    return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) * 1000) / this.rate.perSecond);
  }

  /** Spends one token of `nodeId`; call after `waitMs` returned 0. */
  take(nodeId: string): void {
    this.refill(nodeId).tokens -= 1;
  }

  forget(nodeId: string): void {
    this.buckets.delete(nodeId);
  }

  private refill(nodeId: string): Bucket {
    const now = this.clock.now();
    let bucket = this.buckets.get(nodeId);
    if (bucket === undefined) {
      bucket = { tokens: this.rate.burst, at: now };
      this.buckets.set(nodeId, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(
      this.rate.burst,
      bucket.tokens + (elapsed * this.rate.perSecond) / 1000,
    );
    bucket.at = now;
    return bucket;
  }
}
