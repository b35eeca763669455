import type { KV } from '@nats-io/kv';
import { type Clock, systemClock } from '../clock.js';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import { isWrongRevision, type LeaseRenewals, LeaseRenewer } from './lease-renewer.js';
import { listKeys } from './list-keys.js';
import { decodeId, keys } from './subjects.js';

/** What the lease manager tells its owner; each call is awaited before the next. */
export interface LeaseHandlers {
  /** The shard is ours, with this fencing token (the lease's revision when acquired). */
  acquired(shard: number, fence: number): Promise<void>;
  /** We are giving the shard up (rebalancing or stopping): finish its writes first. */
  releasing(shard: number): Promise<void>;
  /** The lease is gone (expired, or another holder has it): stop acting for the shard now. */
  lost(shard: number): void;
  /** A scan is done (shards taken and given back). */
  scanned?(): Promise<void>;
}

export interface LeaseOptions {
  readonly owner: string;
  readonly shards: number;
  /** The lease length: the lease bucket's TTL. */
  readonly ttlMs: number;
  /** How often free shards are looked for; the handover bound is ttlMs + scanMs. */
  readonly scanMs: number;
  /**
   * How long a scan waits for the member listing; past it the scan goes on with the members
   * listed so far. @defaultValue a third of ttlMs
   */
  readonly listMs?: number;
  readonly log: Logger;
  /** The listing's deadline (and lease ages, renewed in-process) are measured on it. @defaultValue systemClock */
  readonly clock?: Clock;
  /**
   * What renews the leases held. @defaultValue renewals on this thread, every third of ttlMs,
   * on `clock`
   */
  readonly renewals?: LeaseRenewals;
}

/**
 * Shard leases in a KV bucket whose TTL is the lease length. A lease is acquired with `create`
 * (which fails while anyone holds it) and renewed by a LeaseRenewals (see LeaseRenewer), so a
 * holder that stops renewing loses it when the bucket expires the key.
 * Nats-server 2.9 sends no watch event on expiry, so free shards are found by polling every
 * `scanMs`. Supervisors announce themselves with member keys in the same bucket, and each
 * takes at most its share (shards / members, rounded up) and gives back what is over it.
 */
export class ShardLeases {
  /** Each shard held, with its fencing token. */
  private readonly held = new Map<number, number>();
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly renewals: LeaseRenewals;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly options: LeaseOptions,
    private readonly handlers: LeaseHandlers,
  ) {
    this.clock = options.clock ?? systemClock;
    this.now = () => this.clock.now();
    this.renewals =
      options.renewals ??
      new LeaseRenewer(kv, { owner: options.owner, ttlMs: options.ttlMs, now: this.now });
  }

  /** The shards held now, ascending. */
  shards(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /**
   * The fencing token of a shard if its lease is certainly still ours: renewed within the
   * TTL. A write for a shard without one must be refused.
   */
  fence(shard: number): number | undefined {
    const fence = this.held.get(shard);
    return fence !== undefined && this.renewals.fresh(shard) ? fence : undefined;
  }

  async start(): Promise<void> {
    // Renewals run on their own, never queued behind a takeover: a slow takeover (reading a
    // big shard) must not cost the leases already held.
    await this.renewals.start((shard, fence, why) => {
      if (this.held.get(shard) === fence) this.lose(shard, why);
    });
    this.timers.push(setInterval(() => this.serially(() => this.scan()), this.options.scanMs));
    this.serially(() => this.scan());
  }

  /** Forgets a shard whose writes were fenced off: someone else holds it now. */
  forget(shard: number): void {
    if (this.held.delete(shard)) void this.renewals.drop(shard);
  }

  /** Who holds a shard's lease, as KV says now (undefined: nobody). */
  async holder(shard: number): Promise<string | undefined> {
    const entry = await this.kv.get(keys.lease(shard));
    return entry?.operation === 'PUT' ? entry.string() : undefined;
  }

  /** One scan now (tests, and start): announce, give back extras, take free shards. */
  scanNow(): Promise<void> {
    return this.serially(() => this.scan());
  }

  /** Stops renewing and gives every shard back, so the others take over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.running;
    for (const shard of this.shards()) await this.release(shard);
    await this.renewals.stop();
    await this.kv.delete(keys.member(this.options.owner)).catch(() => {
      // The member key expires with the TTL anyway.
    });
  }

  /** Stops renewing without giving anything back, as a crash would (for tests). */
  abandon(): void {
    this.stopped = true;
    this.held.clear();
    for (const timer of this.timers) clearInterval(timer);
    void this.renewals.stop();
  }

  // Renewals, scans and handovers run one at a time: a shard is never acquired while it is
  // being released, and the handlers see a consistent sequence.
  private serially(run: () => Promise<void>): Promise<void> {
    const next = this.running.then(() => (this.stopped ? undefined : run()));
    this.running = next.catch((error: unknown) => {
      this.options.log.warn({ error: thrownMessage(error) }, 'lease work failed; retrying');
    });
    return this.running;
  }

  private async scan(): Promise<void> {
    const { owner, shards, log } = this.options;
    await this.kv.put(keys.member(owner), JSON.stringify({ at: this.now() }));
    const members = await this.members();
    const share = Math.ceil(shards / Math.max(1, members.size));
    // Give back the highest shards over our share; the others pick them up on their scan.
    while (this.held.size > share) {
      const shard = this.shards().at(-1) as number;
      log.info({ shard, share, members: members.size }, 'giving a shard back');
      await this.release(shard);
    }
    for (let shard = 0; shard < shards && this.held.size < share; shard++) {
      if (this.held.has(shard)) continue;
      const sentAt = this.renewals.now();
      let revision: number;
      try {
        revision = await this.kv.create(keys.lease(shard), owner);
      } catch (error) {
        if (isWrongRevision(error)) continue; // held by someone
        throw error;
      }
      this.held.set(shard, revision);
      this.renewals.hold(shard, revision, sentAt);
      log.info({ shard, fence: revision }, 'shard acquired');
      try {
        await this.handlers.acquired(shard, revision);
      } catch (error) {
        // Could not take it over (NATS away): give it back for another try.
        log.warn({ shard, error: thrownMessage(error) }, 'shard takeover failed');
        await this.release(shard);
      }
    }
    await this.handlers.scanned?.();
  }

  /**
   * The supervisors announced in the bucket. Past the listing's deadline the members listed so
   * far count (fewer members, a larger share: free shards are taken rather than left unheld).
   */
  private async members(): Promise<Set<string>> {
    const { owner, ttlMs, listMs = Math.floor(ttlMs / 3), log } = this.options;
    const listed = await listKeys(this.kv, keys.members, listMs, this.clock);
    const names = new Set<string>([owner]);
    for (const key of listed.keys) names.add(decodeId(key.slice('member.'.length)));
    if (!listed.complete) {
      log.warn(
        { listMs, members: names.size },
        'member listing timed out; scanning with the members listed so far',
      );
    }
    return names;
  }

  private async release(shard: number): Promise<void> {
    if (!this.held.has(shard)) return;
    await this.handlers.releasing(shard);
    this.held.delete(shard);
    const revision = await this.renewals.drop(shard);
    if (revision === undefined) return; // lost meanwhile
    try {
      await this.kv.delete(keys.lease(shard), { previousSeq: revision });
    } catch (error) {
      // Refused: it had already expired and been taken. Unreachable: it expires by itself.
      this.options.log.debug({ shard, error: thrownMessage(error) }, 'lease not deleted');
    }
    this.options.log.info({ shard }, 'shard released');
  }

  private lose(shard: number, why: string): void {
    if (!this.held.delete(shard)) return;
    void this.renewals.drop(shard);
    this.options.log.warn({ shard, why }, 'shard lease lost');
    this.handlers.lost(shard);
  }
}
