/** How fast one node may send heartbeats: a token bucket per node. */
export interface HeartbeatRate {
  /**
   * Heartbeats a second a node may keep up.
   * @defaultValue 10
   */
  readonly perSecond: number;
  /**
   * How many it may send at once after a quiet spell.
   * @defaultValue 20
   */
  readonly burst: number;
}

/**
 * A node's token bucket, kept on its telemetry record: it goes when the node goes (deregister,
 * shard release), with no map of its own to clean up. `tokens` is negative until the node's
 * first limited heartbeat, when the bucket starts full.
 */
export interface RateBucket {
  tokens: number;
  tokensAt: number;
}

/** 0 when the node may send one more heartbeat at `now`, else the ms until it may. Takes nothing. */
export function rateWaitMs(bucket: RateBucket, rate: HeartbeatRate, now: number): number {
  refill(bucket, rate, now);
  return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) * 1000) / rate.perSecond);
}

/** Spends one token (call after `rateWaitMs` returned 0, at the same `now`). */
export function rateTake(bucket: RateBucket): void {
  bucket.tokens -= 1;
}

function refill(bucket: RateBucket, rate: HeartbeatRate, now: number): void {
  if (bucket.tokens < 0) {
    bucket.tokens = rate.burst;
  } else {
    const elapsed = Math.max(0, now - bucket.tokensAt);
    bucket.tokens = Math.min(rate.burst, bucket.tokens + (elapsed * rate.perSecond) / 1000);
  }
  bucket.tokensAt = now;
}
