import { pino } from 'pino';
import {
  type Clock,
  createSupervisor,
  type NodeSnapshot,
  type Supervisor,
  type SupervisorOptions,
} from 'wyneos';
import { BaselineFleet } from './baseline.js';
import { wyneosRules } from './ten-rules.js';

/** The options both sides run with (as in `test/baseline.test.ts`). */
export const tickOptions = {
  tickMs: 1000,
  heartbeatTimeoutMs: 3000,
  overload: { high: 0.9, low: 0.7, ticks: 3 },
} as const;

/**
 * Time that moves only when the benchmark moves it, and timers that never fire: ticks happen
 * only when the benchmark calls `sup.tick()`, with heartbeats fed in between.
 */
export class ManualClock implements Clock {
  constructor(public at: number) {}
  now(): number {
    return this.at;
  }
  setTimeout(): number {
    return 0;
  }
  clearTimeout(): void {}
}

/** A heartbeat a benchmark builds once and updates in place (seq, load) before each send. */
export interface ReusableBeat {
  nodeId: string;
  seq: number;
  load: number;
  metrics?: Record<string, number>;
}

const registerBatch = 10_000;

/** A started supervisor with the ten rules and the nodes registered, on `clock`. */
export function wyneosFleet(
  nodes: readonly NodeSnapshot[],
  clock: Clock,
  extra: SupervisorOptions = {},
): Supervisor {
  const sup = createSupervisor({
    ...extra,
    ...tickOptions,
    clock,
    logger: pino({ level: 'silent' }),
    rules: wyneosRules,
    safety: { maxIsolatedFraction: 1, partitionFraction: 1 },
  });
  sup.start();
  for (let i = 0; i < nodes.length; i += registerBatch) {
    sup.registerMany(
      nodes.slice(i, i + registerBatch).map((n) => ({
        id: n.id,
        labels: n.labels,
        ...(n.version === undefined ? {} : { version: n.version }),
      })),
    );
  }
  return sup;
}

/** The hand-written reference with the same nodes registered at `at`. */
export function baselineFleet(nodes: readonly NodeSnapshot[], at: number): BaselineFleet {
  const fleet = new BaselineFleet(tickOptions);
  for (const n of nodes) fleet.register(n.id, n.labels, n.version, at);
  return fleet;
}

/** One heartbeat per node, carrying its generated load and (if asked) its four metrics. */
export function reusableBeats(
  nodes: readonly NodeSnapshot[],
  withMetrics: boolean,
): ReusableBeat[] {
  return nodes.map((n) => ({
    nodeId: n.id,
    seq: 0,
    load: n.load,
    ...(withMetrics ? { metrics: { ...n.metrics } } : {}),
  }));
}
