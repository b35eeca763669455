/**
 * The memory the main thread shares with its lease worker, read and written without waiting
 * for either thread's event loop: slot 0 holds when the main thread last showed it was alive,
 * and each shard has two slots, when its lease was last renewed (0: not held) and at which
 * revision. Times are whole ms on the process's monotonic clock, the same in every thread.
 */
export class LeaseSlots {
  private readonly slots: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.slots = new BigInt64Array(buffer);
  }

  static create(shards: number): LeaseSlots {
    return new LeaseSlots(new SharedArrayBuffer(8 * (1 + 2 * shards)));
  }

  aliveAt(): number {
    return Number(Atomics.load(this.slots, 0));
  }

  markAlive(): void {
    Atomics.store(this.slots, 0, BigInt(monotonicNow()));
  }

  renewedAt(shard: number): number {
    return Number(Atomics.load(this.slots, 1 + 2 * shard));
  }

  revision(shard: number): number {
    return Number(Atomics.load(this.slots, 2 + 2 * shard));
  }

  renewed(shard: number, revision: number, at: number): void {
    Atomics.store(this.slots, 2 + 2 * shard, BigInt(revision));
    Atomics.store(this.slots, 1 + 2 * shard, BigInt(at));
  }

  clear(shard: number): void {
    Atomics.store(this.slots, 1 + 2 * shard, 0n);
  }

  /**
   * Clears a shard's renewal if it is still the one written at `renewedAt`: a lease lost just as
   * the main thread acquired the shard anew (the old one expired) must not clear the new one.
   */
  clearIf(shard: number, renewedAt: number): void {
    Atomics.compareExchange(this.slots, 1 + 2 * shard, BigInt(renewedAt), 0n);
  }
}

/** Whole ms on the monotonic clock (CLOCK_MONOTONIC): shared by threads, unmoved by clock steps. */
export function monotonicNow(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}
