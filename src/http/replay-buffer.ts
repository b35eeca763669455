/**
 * The last `capacity` events of a stream, serialised, by sequence number (1, 2, 3, ...): what
 * a client that reconnects with `Last-Event-ID` missed. A ring: once full, each new event
 * evicts the oldest, so it never holds more than `capacity` events, whatever the uptime.
 */
export class ReplayBuffer {
  private readonly ring: Buffer[] = [];
  /** Index in `ring` of the oldest event once the ring is full; 0 until then. */
  private head = 0;
  private held = 0;
  /** Sequence number of the newest event; 0 before the first. */
  private newest = 0;

  constructor(readonly capacity: number) {}

  /** Sequence number the next event gets. */
  get next(): number {
    return this.newest + 1;
  }

  /** Sequence number of the newest event; 0 before the first. */
  get last(): number {
    return this.newest;
  }

  /** Events held now (at most `capacity`). */
  get size(): number {
    return this.ring.length;
  }

  /** Bytes of the events held now. */
  get bytes(): number {
    return this.held;
  }

  /** Keeps `event`, serialised with sequence number {@link next}, evicting the oldest if full. */
  push(event: Buffer): void {
    this.newest += 1;
    this.held += event.byteLength;
    if (this.ring.length < this.capacity) {
      this.ring.push(event);
      return;
    }
    this.held -= this.ring[this.head]?.byteLength ?? 0;
    this.ring[this.head] = event;
    this.head = (this.head + 1) % this.capacity;
  }

  /**
   * Every event after sequence number `seen`, oldest first; undefined when they are not all
   * held any more (evicted) or `seen` was never given out.
   */
  after(seen: number): Buffer[] | undefined {
    const oldest = this.newest - this.ring.length + 1;
    if (!Number.isSafeInteger(seen) || seen < oldest - 1 || seen > this.newest) return undefined;
    const missed: Buffer[] = [];
    for (let seq = seen + 1; seq <= this.newest; seq++) {
      const at = (this.head + seq - oldest) % this.ring.length;
      missed.push(this.ring[at] as Buffer);
    }
    return missed;
  }
}
