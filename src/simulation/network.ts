import type { SimulatedClock } from 'xstate';
import type { SeededRandom } from './random.js';
import type { RunRecorder } from './recorder.js';
import type { SimNode } from './sim-node.js';

/** A heartbeat on its way to the supervisor. */
export interface Delivery {
  readonly node: SimNode;
  readonly seq: number;
  readonly load: number;
  /** Whether the node sends garbage at that moment (a malformed-heartbeat fault). */
  readonly bad: boolean;
}

/**
 * The fleet's time and its network: nodes' sends, heartbeats in flight with their delay and
 * loss, events scheduled at a time (faults), and a supervisor pause. Time moves in slots of
 * `slotMs`, and sends and deliveries wait in per-slot buckets, so a step costs what is due in
 * it, not what is pending.
 */
export class SimulatedNetwork {
  private readonly sends = new Map<number, SimNode[]>();
  private readonly deliveries = new Map<number, Delivery[]>();
  private readonly timeline: Array<{ at: number; order: number; run: (now: number) => void }> = [];
  private order = 0;
  /** What reached the paused supervisor, read after the late tick that ends the pause. */
  private readonly waiting: Delivery[] = [];
  /** While the supervisor is paused its clock stands still, so no tick can run. */
  pausedUntil = Number.NEGATIVE_INFINITY;
  /** The fleet's own time, which goes on while the supervisor's clock stands still. */
  now = 0;

  constructor(
    private readonly clock: SimulatedClock,
    private readonly slotMs: number,
    private readonly baseDelayMs: number,
    private readonly random: SeededRandom,
    private readonly recorder: RunRecorder,
    private readonly deliver: (delivery: Delivery) => void,
  ) {}

  /** Runs `run` when the fleet's time reaches `at` (in order of scheduling at equal times). */
  schedule(at: number, run: (now: number) => void): void {
    const entry = { at, order: this.order++, run };
    const { timeline } = this;
    let i = timeline.length;
    while (i > 0 && (timeline[i - 1] as (typeof timeline)[number]).at > at) i--;
    timeline.splice(i, 0, entry);
  }

  /** Starts a node's heartbeats, the first at its `nextSendAt`. */
  startSending(node: SimNode): void {
    this.bucket(this.sends, node.nextSendAt, node);
  }

  pause(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  /** Moves the fleet's time on by `ms`, slot by slot. */
  advance(ms: number): void {
    const target = this.now + ms;
    const { slotMs } = this;
    for (let t = (Math.floor(this.now / slotMs) + 1) * slotMs; t <= target; t += slotMs) {
      this.step(t);
    }
    this.now = target;
    if (this.clock.now() < target && target >= this.pausedUntil) this.clock.set(target);
  }

  /** Ends a pause still going: what waited is read by the supervisor now awake. */
  endPause(): void {
    if (this.now >= this.pausedUntil) return;
    this.pausedUntil = this.now;
    this.clock.set(this.now);
    for (const d of this.waiting.splice(0)) this.deliver(d);
  }

  private step(now: number): void {
    this.now = now;
    if (now >= this.pausedUntil) {
      this.clock.set(now); // fires the supervisor's tick when one is due
      for (const d of this.waiting.splice(0)) this.deliver(d);
    }
    const { timeline, recorder } = this;
    while (timeline.length > 0 && (timeline[0] as (typeof timeline)[number]).at <= now) {
      (timeline.shift() as (typeof timeline)[number]).run(now);
    }
    const slot = Math.round(now / this.slotMs);
    for (const node of this.sends.get(slot) ?? []) {
      const sentAt = node.nextSendAt;
      node.nextSendAt = sentAt + node.intervalAt(sentAt);
      this.bucket(this.sends, node.nextSendAt, node);
      if (!node.beatsAt(sentAt)) continue;
      node.seq++;
      recorder.sent++;
      const delay = node.delayAt(sentAt, this.baseDelayMs, this.random);
      if (delay < 0) {
        recorder.lost++;
        continue;
      }
      const load = node.loadAt(sentAt, this.random);
      this.bucket(this.deliveries, sentAt + delay, {
        node,
        seq: node.seq,
        load,
        bad: sentAt < node.badUntil,
      });
    }
    this.sends.delete(slot);
    for (const d of this.deliveries.get(slot) ?? []) {
      if (now < this.pausedUntil) this.waiting.push(d);
      else this.deliver(d);
    }
    this.deliveries.delete(slot);
  }

  private bucket<T>(map: Map<number, T[]>, at: number, item: T): void {
    const slot = Math.ceil(at / this.slotMs);
    const list = map.get(slot);
    if (list === undefined) map.set(slot, [item]);
    else list.push(item);
  }
}
