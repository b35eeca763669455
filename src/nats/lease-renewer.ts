import type { KV } from '@nats-io/kv';
import { thrownMessage } from '../show.js';
import { keys } from './subjects.js';

/** Keeps the leases a supervisor holds renewed, and says which are certainly still its own. */
export interface LeaseRenewals {
  /** Now, on the clock lease ages are measured on (a lease's `sentAt` is taken from it). */
  now(): number;
  /** Starts renewing a lease acquired with fencing token `fence`, created at `sentAt`. */
  hold(shard: number, fence: number, sentAt: number): void;
  /** Stops renewing a lease (once a renewal under way is done); resolves to its last revision. */
  drop(shard: number): Promise<number | undefined>;
  /** Whether the lease was renewed within the TTL: a write for the shard is refused otherwise. */
  fresh(shard: number): boolean;
  /** Starts renewing; `lost` is called once for each lease found gone (refused, or out of time). */
  start(lost: (shard: number, fence: number, why: string) => void): void | Promise<void>;
  /** Stops renewing everything (the leases then run out by themselves). */
  stop(): Promise<void>;
}

export interface LeaseRenewerOptions {
  readonly owner: string;
  readonly ttlMs: number;
  readonly now: () => number;
  /** Told of every renewal that succeeded (the worker publishes it to the main thread). */
  readonly renewed?: (shard: number, revision: number, sentAt: number) => void;
  /** Whether to renew now; false skips a round (the worker's main thread has stalled). */
  readonly renewing?: () => boolean;
}

interface Held {
  readonly fence: number;
  revision: number;
  /** When the last successful renewal was sent: the lease runs out ttlMs after it at most. */
  renewedAt: number;
}

/**
 * Renews leases in a KV bucket whose TTL is the lease length: `update` at the last revision
 * every third of the TTL, so a holder that stops renewing loses its lease when the bucket
 * expires the key, and a renewal refused (another holder created it since) or failing for a
 * whole TTL loses it here too. It runs on whatever thread it is created on: in-process (tests
 * with a simulated clock) or in the lease worker (see WorkerRenewals).
 */
export class LeaseRenewer implements LeaseRenewals {
  private readonly held = new Map<number, Held>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private renewingNow = false;
  private lost: (shard: number, fence: number, why: string) => void = () => {};

  constructor(
    private readonly kv: KV,
    private readonly options: LeaseRenewerOptions,
  ) {}

  now(): number {
    return this.options.now();
  }

  /** `revision` is the lease's last one when it was renewed before (a restarted worker's). */
  hold(shard: number, fence: number, sentAt: number, revision = fence): void {
    this.held.set(shard, { fence, revision, renewedAt: sentAt });
  }

  async drop(shard: number): Promise<number | undefined> {
    // A renewal under way would move the revision the lease is deleted at.
    while (this.renewingNow) await this.round;
    const lease = this.held.get(shard);
    this.held.delete(shard);
    return lease?.revision;
  }

  fresh(shard: number): boolean {
    const lease = this.held.get(shard);
    return lease !== undefined && this.now() - lease.renewedAt < this.options.ttlMs;
  }

  start(lost: (shard: number, fence: number, why: string) => void): void {
    this.lost = lost;
    this.timer = setInterval(() => this.renewOnce(), Math.floor(this.options.ttlMs / 3));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  /** One round of renewals now, unless one is under way (tests and the interval). */
  renewOnce(): Promise<void> {
    if (this.renewingNow || this.options.renewing?.() === false) return this.round;
    this.renewingNow = true;
    this.round = this.renew().finally(() => {
      this.renewingNow = false;
    });
    return this.round;
  }

  private async renew(): Promise<void> {
    const { owner, ttlMs, renewed } = this.options;
    const renewals = [...this.held].map(async ([shard, lease]) => {
      const sentAt = this.now();
      try {
        lease.revision = await this.kv.update(keys.lease(shard), owner, lease.revision);
        lease.renewedAt = sentAt;
        renewed?.(shard, lease.revision, sentAt);
      } catch (error) {
        // Refused (someone else holds it) or unreachable: either way, once the TTL has run
        // out since the last renewal, it may be someone else's.
        if (isWrongRevision(error) || this.now() - lease.renewedAt >= ttlMs) {
          if (this.held.get(shard) === lease) this.held.delete(shard);
          this.lost(shard, lease.fence, thrownMessage(error));
        }
      }
    });
    await Promise.all(renewals);
  }
}

/** A compare-and-set refused: the key's revision is not the one given. */
export function isWrongRevision(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // 10071: wrong last sequence (JetStream's API error code for a failed expectation).
  return code === 10071 || /wrong last sequence/i.test(thrownMessage(error));
}
