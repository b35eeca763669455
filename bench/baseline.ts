/**
 * The hand-written reference every benchmark compares wyneos with: the same tick semantics on a
 * plain array of records, with no actors and no streams.
 *
 * - Ingest: a heartbeat is checked by hand against what the heartbeat schema allows (`nodeId` a
 *   string, `seq` an integer greater than the last one, `load` finite in [0, 1], `metrics`
 *   finite numbers by name, nothing else) and stored, metrics copied.
 * - Tick: a node silent for `heartbeatTimeoutMs` or more goes `offline`, an offline node heard
 *   from within the timeout comes back `online`; an online node at or over `overload.high` for
 *   `overload.ticks` ticks in a row goes `overloaded` (one `reduce-load` action), an overloaded
 *   one at or under `overload.low` for as many ticks recovers. Isolated nodes are left alone.
 *   Then the ten rules of `ten-rules.ts`, by `evaluateByHand`.
 *
 * `test/baseline.test.ts` checks it agrees with wyneos tick by tick.
 */
import type { Labels, Metrics, NodeState } from 'wyneos';
import { evaluateByHand, type HandReport } from './ten-rules.js';

export interface BaselineOptions {
  readonly heartbeatTimeoutMs: number;
  readonly overload: { readonly high: number; readonly low: number; readonly ticks: number };
}

/** One node: what the ten rules read (see `RuleInput`), its lifecycle and its overload streak. */
export interface BaselineNode {
  readonly id: string;
  readonly labels: Labels;
  readonly version: string | undefined;
  readonly registeredAt: number;
  state: NodeState;
  load: number;
  metrics: Metrics;
  /** -1 before the first heartbeat. */
  seq: number;
  lastHeartbeatAt: number | undefined;
  /** `lastHeartbeatAt`, or `registeredAt` until the first heartbeat: what liveness reads. */
  lastSeenAt: number;
  /** Consecutive ticks past the mark that matters in the current state. */
  streak: number;
}

/** What one tick did. */
export interface BaselineTick {
  readonly transitions: number;
  readonly actions: number;
  readonly report: HandReport;
}

const noMetrics: Metrics = Object.freeze({});
const maxMetrics = 64;

export class BaselineFleet {
  readonly nodes: BaselineNode[] = [];
  private readonly byId = new Map<string, BaselineNode>();

  constructor(private readonly options: BaselineOptions) {}

  register(id: string, labels: Labels, version: string | undefined, registeredAt: number): void {
    if (this.byId.has(id)) throw new Error(`node ${id} is already registered`);
    const node: BaselineNode = {
      id,
      labels: Object.freeze({ ...labels }),
      version,
      registeredAt,
      state: 'online',
      load: 0,
      metrics: noMetrics,
      seq: -1,
      lastHeartbeatAt: undefined,
      lastSeenAt: registeredAt,
      streak: 0,
    };
    this.nodes.push(node);
    this.byId.set(id, node);
  }

  /** Validates and stores one heartbeat received at `receivedAt`; throws if it is refused. */
  heartbeat(input: unknown, receivedAt: number): void {
    if (typeof input !== 'object' || input === null) throw refused('expected an object');
    const beat = input as Record<string, unknown>;
    for (const key in beat) {
      if (key !== 'nodeId' && key !== 'seq' && key !== 'load' && key !== 'metrics') {
        throw refused(`${key} is not an allowed property`);
      }
    }
    const { nodeId, seq, load, metrics } = beat;
    if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > 253) {
      throw refused('nodeId must be a string of 1 to 253 characters');
    }
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw refused('seq must be a non-negative integer');
    }
    // NaN and the infinities fail the range check.
    if (typeof load !== 'number' || !(load >= 0 && load <= 1)) {
      throw refused('load must be a number between 0 and 1');
    }
    let copy: Record<string, number> | undefined;
    if (metrics !== undefined) {
      if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
        throw refused('metrics must be an object');
      }
      copy = {};
      let count = 0;
      for (const name in metrics) {
        const value = (metrics as Record<string, unknown>)[name];
        if (++count > maxMetrics) throw refused(`at most ${maxMetrics} metrics`);
        if (name.length === 0 || name.length > 128) throw refused('metric names: 1-128 characters');
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw refused(`metric ${name} must be a finite number`);
        }
        copy[name] = value;
      }
    }
    const node = this.byId.get(nodeId);
    if (node === undefined) throw refused(`unknown node ${nodeId}`);
    if (seq <= node.seq) throw refused(`stale seq ${seq} for ${nodeId} (last ${node.seq})`);
    node.seq = seq;
    node.load = load;
    if (copy !== undefined) node.metrics = copy;
    node.lastHeartbeatAt = receivedAt;
    node.lastSeenAt = receivedAt;
  }

  /** One tick at `at`: liveness, overload with hysteresis, then the ten rules. */
  tick(at: number): BaselineTick {
    const { heartbeatTimeoutMs } = this.options;
    const { high, low, ticks } = this.options.overload;
    let transitions = 0;
    let actions = 0;
    const { nodes } = this;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as BaselineNode;
      const { state } = node;
      if (state === 'isolated') continue;
      const live = at - node.lastSeenAt < heartbeatTimeoutMs;
      if (state === 'offline') {
        node.streak = 0;
        if (live) {
          node.state = 'online';
          transitions++;
        }
        continue;
      }
      if (!live) {
        node.streak = 0;
        node.state = 'offline';
        transitions++;
        continue;
      }
      const online = state === 'online';
      if (online ? node.load < high : node.load > low) {
        node.streak = 0;
        continue;
      }
      if (++node.streak < ticks) continue;
      node.streak = 0;
      transitions++;
      if (online) {
        node.state = 'overloaded';
        actions++; // reduce-load
      } else {
        node.state = 'online';
      }
    }
    return { transitions, actions, report: evaluateByHand(nodes, at) };
  }
}

function refused(problem: string): Error {
  return new Error(`heartbeat refused: ${problem}`);
}
