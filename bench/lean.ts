/**
 * The lean reference of issue 16: the supervisor's tick semantics as a bare loop over typed
 * arrays, one column per field, indexed by a slot; ids map to slots. No actors, no streams, no
 * snapshot objects, no logging. It is what a tick costs when nothing but the work is done, and
 * the redesign is measured against it (`bench/scenarios/core-budgets.ts`).
 *
 * - Liveness (the timeout detector): a node silent for `heartbeatTimeoutMs` or more (since its
 *   last heartbeat, or since it registered) goes `offline`. An offline node comes back `online`
 *   only on a heartbeat received since it went offline (`lastHeartbeatAt >= since`), as
 *   `planHealing` requires.
 * - Overload with hysteresis: an online node at or over `overload.high` for `overload.ticks`
 *   ticks in a row goes `overloaded` (one `reduce-load` action); an overloaded node at or under
 *   `overload.low` for as many ticks recovers. A transition or a silence resets the streak.
 * - Then the ten rules of `trivial-rules.ts` over every node, one column loop per rule.
 *
 * Isolation, flapping, escalation and enforcement are not modelled: the scenarios that use this
 * never reach them. `test/lean.test.ts` checks it agrees with the supervisor tick by tick.
 */
import type { Metrics, NodeSnapshot, Rule, RuleContext } from 'wyneos';
import { type MetricName, metricNames, trivialRules } from './trivial-rules.js';

export interface LeanOptions {
  readonly heartbeatTimeoutMs: number;
  readonly overload: { readonly high: number; readonly low: number; readonly ticks: number };
  /**
   * The same ten rules as wyneos closures (`trivialWyneosRules`), called per node on one reused
   * view of its columns, instead of the column loops: what the tick costs when rules keep the
   * public `Rule` API. Unset: the bare column loops.
   */
  readonly rules?: readonly Rule[];
}

export const online = 0;
export const overloaded = 1;
export const offline = 2;
export const stateNames = ['online', 'overloaded', 'offline'] as const;

/** What one tick did. */
export interface LeanTick {
  readonly transitions: number;
  readonly actions: number;
  /** Failed (rule, node) pairs. */
  readonly violations: number;
}

/** The rules as the loop reads them: which column, which comparison, which limit. */
const compiled = trivialRules.map((rule) => ({
  op: rule.op,
  limit: rule.limit,
  metric: rule.column === 'load' ? -1 : metricNames.indexOf(rule.column as MetricName),
}));

export class LeanFleet {
  /** Slot → id. */
  readonly ids: string[] = [];
  private readonly slots = new Map<string, number>();
  private capacity: number;

  state: Uint8Array;
  /** When the node entered its state. */
  since: Float64Array;
  /** The last heartbeat's arrival, or the registration time before the first: liveness. */
  lastSeen: Float64Array;
  /** The last heartbeat's arrival; NaN before the first (every comparison with it fails). */
  lastHeartbeat: Float64Array;
  seq: Float64Array;
  load: Float64Array;
  streak: Int32Array;
  /** One column per name in `metricNames`; 0 for a metric the last heartbeat lacked. */
  metrics: Float64Array[];
  /** Per slot, after a tick: bit r set when rule r failed. */
  broken: Uint16Array;
  /** Per rule, after a tick: how many nodes failed it. */
  readonly fails = new Uint32Array(trivialRules.length);

  constructor(
    private readonly options: LeanOptions,
    capacity = 1024,
  ) {
    this.capacity = Math.max(1, capacity);
    const n = this.capacity;
    this.state = new Uint8Array(n);
    this.since = new Float64Array(n);
    this.lastSeen = new Float64Array(n);
    this.lastHeartbeat = new Float64Array(n);
    this.seq = new Float64Array(n);
    this.load = new Float64Array(n);
    this.streak = new Int32Array(n);
    this.metrics = metricNames.map(() => new Float64Array(n));
    this.broken = new Uint16Array(n);
  }

  get size(): number {
    return this.ids.length;
  }

  slotOf(id: string): number | undefined {
    return this.slots.get(id);
  }

  register(id: string, registeredAt: number): void {
    if (this.slots.has(id)) throw new Error(`node ${id} is already registered`);
    const slot = this.ids.length;
    if (slot === this.capacity) this.grow();
    this.ids.push(id);
    this.slots.set(id, slot);
    this.state[slot] = online;
    this.since[slot] = registeredAt;
    this.lastSeen[slot] = registeredAt;
    this.lastHeartbeat[slot] = Number.NaN;
    this.seq[slot] = -1;
  }

  /**
   * Stores one heartbeat received at `at`. Trusted input: the schema checks the supervisor
   * runs are not modelled, only what changes the state (unknown node, stale seq).
   */
  heartbeat(nodeId: string, seq: number, load: number, metrics: Metrics | undefined, at: number) {
    const slot = this.slots.get(nodeId);
    if (slot === undefined) throw new Error(`unknown node ${nodeId}`);
    if (seq <= (this.seq[slot] as number)) throw new Error(`stale seq ${seq} for ${nodeId}`);
    this.seq[slot] = seq;
    this.load[slot] = load;
    if (metrics !== undefined) {
      for (let m = 0; m < metricNames.length; m++) {
        (this.metrics[m] as Float64Array)[slot] = metrics[metricNames[m] as MetricName] ?? 0;
      }
    }
    this.lastHeartbeat[slot] = at;
    this.lastSeen[slot] = at;
  }

  /** One tick at `at`: liveness, overload with hysteresis, then the ten rules. */
  tick(at: number): LeanTick {
    const { heartbeatTimeoutMs } = this.options;
    const { high, low, ticks } = this.options.overload;
    const { state, since, lastSeen, lastHeartbeat, load, streak } = this;
    const count = this.ids.length;
    let transitions = 0;
    let actions = 0;
    for (let i = 0; i < count; i++) {
      const s = state[i] as number;
      const live = at - (lastSeen[i] as number) < heartbeatTimeoutMs;
      if (s === offline) {
        // Only a heartbeat since it went offline brings a node back.
        if (live && (lastHeartbeat[i] as number) >= (since[i] as number)) {
          state[i] = online;
          since[i] = at;
          transitions++;
        }
        continue;
      }
      if (!live) {
        state[i] = offline;
        since[i] = at;
        streak[i] = 0;
        transitions++;
        continue;
      }
      const l = load[i] as number;
      if (s === online ? l < high : l > low) {
        streak[i] = 0;
        continue;
      }
      const st = (streak[i] as number) + 1;
      if (st < ticks) {
        streak[i] = st;
        continue;
      }
      streak[i] = 0;
      state[i] = s === online ? overloaded : online;
      since[i] = at;
      transitions++;
      if (s === online) actions++; // reduce-load
    }
    const { rules } = this.options;
    const violations =
      rules === undefined ? this.evaluate(count) : this.evaluateThrough(rules, count, at);
    return { transitions, actions, violations };
  }

  /** The rules called per node on one view object whose fields are rewritten for each node. */
  private evaluateThrough(rules: readonly Rule[], count: number, at: number): number {
    const { broken, fails, ids, load } = this;
    const metrics: Record<string, number> = {};
    for (const name of metricNames) metrics[name] = 0;
    const view = { id: '', load: 0, metrics } as unknown as { id: string; load: number };
    const ctx: RuleContext = { tick: 0, at, fleetSize: count };
    fails.fill(0);
    let violations = 0;
    for (let i = 0; i < count; i++) {
      view.id = ids[i] as string;
      view.load = load[i] as number;
      for (let m = 0; m < metricNames.length; m++) {
        metrics[metricNames[m] as MetricName] = (this.metrics[m] as Float64Array)[i] as number;
      }
      let bits = 0;
      for (let r = 0; r < rules.length; r++) {
        if ((rules[r] as Rule).evaluate(view as NodeSnapshot, ctx) !== true) {
          bits |= 1 << r;
          fails[r] = (fails[r] as number) + 1;
          violations++;
        }
      }
      broken[i] = bits;
    }
    return violations;
  }

  /** The ten rules, one tight loop per rule over its column. */
  private evaluate(count: number): number {
    const { broken, fails } = this;
    broken.fill(0, 0, count);
    let violations = 0;
    for (let r = 0; r < compiled.length; r++) {
      const { op, limit, metric } = compiled[r] as (typeof compiled)[number];
      const column = metric < 0 ? this.load : (this.metrics[metric] as Float64Array);
      const bit = 1 << r;
      let failed = 0;
      // The comparison outside the loop, so each loop body is one compare.
      switch (op) {
        case '<':
          for (let i = 0; i < count; i++) {
            if (!((column[i] as number) < limit)) {
              broken[i] = (broken[i] as number) | bit;
              failed++;
            }
          }
          break;
        case '<=':
          for (let i = 0; i < count; i++) {
            if (!((column[i] as number) <= limit)) {
              broken[i] = (broken[i] as number) | bit;
              failed++;
            }
          }
          break;
        case '>':
          for (let i = 0; i < count; i++) {
            if (!((column[i] as number) > limit)) {
              broken[i] = (broken[i] as number) | bit;
              failed++;
            }
          }
          break;
        case '>=':
          for (let i = 0; i < count; i++) {
            if (!((column[i] as number) >= limit)) {
              broken[i] = (broken[i] as number) | bit;
              failed++;
            }
          }
          break;
      }
      fails[r] = failed;
      violations += failed;
    }
    return violations;
  }

  /** Doubles every column, keeping what the slots hold. */
  private grow(): void {
    const n = this.capacity * 2;
    const widen = <T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(
      old: T,
      make: (length: number) => T,
    ): T => {
      const wider = make(n);
      wider.set(old);
      return wider;
    };
    this.state = widen(this.state, (k) => new Uint8Array(k));
    this.since = widen(this.since, (k) => new Float64Array(k));
    this.lastSeen = widen(this.lastSeen, (k) => new Float64Array(k));
    this.lastHeartbeat = widen(this.lastHeartbeat, (k) => new Float64Array(k));
    this.seq = widen(this.seq, (k) => new Float64Array(k));
    this.load = widen(this.load, (k) => new Float64Array(k));
    this.streak = widen(this.streak, (k) => new Int32Array(k));
    this.metrics = this.metrics.map((m) => widen(m, (k) => new Float64Array(k)));
    this.broken = widen(this.broken, (k) => new Uint16Array(k));
    this.capacity = n;
  }
}
