/** How many slots the columns start with; they double whenever every slot is taken. */
const initialCapacity = 1024;

/**
 * @internal The hot numeric telemetry of every node, one typed array a field, indexed by the
 * slot a node holds while it is registered. A heartbeat writes a few array cells instead of the
 * fields of a record object, and a tick reads them from contiguous memory. A freed slot goes on
 * a free list and is handed to the next node; `allocate` writes every field of it afresh, so a
 * new node never shows what the node before it reported.
 *
 * Float64 for all four: loads are compared with rules' limits exactly as sent, and seq and
 * epoch go up to `Number.MAX_SAFE_INTEGER`. The arrays are replaced when they grow: read them
 * through this object, never keep one across a registration.
 */
export class TelemetryColumns {
  /** The load of the last accepted heartbeat; 0 before the first. */
  load = new Float64Array(initialCapacity);
  /** When the last heartbeat was accepted (ms); -1 before the first. */
  lastHeartbeatAt = new Float64Array(initialCapacity);
  /** The seq of the last accepted heartbeat; -1 before the first. */
  seq = new Float64Array(initialCapacity);
  /** The epoch of the last accepted heartbeat; 0 when none gave one. */
  epoch = new Float64Array(initialCapacity);
  /** Slots given back, taken again last in, first out. */
  readonly #free: number[] = [];
  /** Slots below this were handed out at least once. */
  #used = 0;

  /** How many slots the columns hold, taken or not. */
  get capacity(): number {
    return this.load.length;
  }

  /** How many slots are taken. */
  get taken(): number {
    return this.#used - this.#free.length;
  }

  /** A slot for a new node, every field at its value before any heartbeat. */
  allocate(): number {
    const slot = this.#free.length > 0 ? (this.#free.pop() as number) : this.#used++;
    if (slot >= this.capacity) this.grow();
    this.load[slot] = 0;
    this.lastHeartbeatAt[slot] = -1;
    this.seq[slot] = -1;
    this.epoch[slot] = 0;
    return slot;
  }

  /** Gives a slot back (its node left); the caller must not use it after. */
  free(slot: number): void {
    this.#free.push(slot);
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    this.load = grown(this.load, capacity);
    this.lastHeartbeatAt = grown(this.lastHeartbeatAt, capacity);
    this.seq = grown(this.seq, capacity);
    this.epoch = grown(this.epoch, capacity);
  }
}

function grown(column: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const next = new Float64Array(capacity);
  next.set(column);
  return next;
}
