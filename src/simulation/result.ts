import type { NodeState, RemediationActionType } from '../types.js';
import type { Expectation, FaultKind, ResolvedFault } from './faults.js';
import type { FalsePositive, Incident } from './ground-truth.js';
import type { Violation } from './invariants.js';

/** p50, p95 and max of a set of latencies, in ms (nearest rank); null when there are none. */
export interface LatencyStats {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

/** How the supervisor detected the incidents of one fault kind (the fields of `detection`). */
export interface KindDetection {
  readonly incidents: number;
  readonly detected: number;
  readonly missed: number;
  readonly pending: number;
  readonly tolerated: number;
  readonly reacted: number;
  readonly latencyMs: LatencyStats | null;
}

/** Whether one invariant held over a run, and the first violations if it did not. */
export interface InvariantResult {
  readonly name: string;
  readonly description: string;
  /** False when the invariant means nothing under this configuration (it was not checked). */
  readonly applicable: boolean;
  readonly holds: boolean;
  readonly violations: number;
  /** The first few violations. */
  readonly examples: readonly Violation[];
}

/** The fleet at one moment of a run: its governance compliance and its nodes by state. */
export interface CompliancePoint {
  readonly at: number;
  readonly fleetCompliance: number;
  readonly states: Readonly<Record<NodeState, number>>;
}

/**
 * What a simulation did: the faults it injected (the ground truth) beside what the supervisor
 * did about them, and every invariant checked. Plain data, the same for the same seed.
 */
export interface SimulationResult {
  readonly seed: number;
  readonly nodes: number;
  readonly tickMs: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly detector: 'timeout' | 'phi';
  /** Simulated time covered, in ms. */
  readonly durationMs: number;
  readonly ticks: number;
  /** Every fault as injected, with the nodes it hit. */
  readonly faults: ReadonlyArray<ResolvedFault & { readonly targets: readonly string[] }>;
  /** Every fault on every node it hit, with when and how it was detected. */
  readonly incidents: readonly Incident[];
  readonly detection: {
    /** Over incidents the supervisor should detect (recoveries excluded: see `byKind.recover`). */
    readonly detected: number;
    readonly missed: number;
    readonly pending: number;
    readonly latencyMs: LatencyStats | null;
    readonly byKind: Readonly<Partial<Record<FaultKind, KindDetection>>>;
  };
  /** Healthy nodes declared offline or isolated, with the first ones. */
  readonly falsePositives: { readonly count: number; readonly first: readonly FalsePositive[] };
  readonly actions: {
    /** Actions decided, by type. */
    readonly proposed: Readonly<Partial<Record<RemediationActionType, number>>>;
    readonly applied: Readonly<Partial<Record<RemediationActionType, number>>>;
    /** Held back, by the safety limit that held them. */
    readonly held: Readonly<Record<string, number>>;
    readonly failed: number;
  };
  readonly transitions: Readonly<Record<string, number>>;
  readonly heartbeats: {
    readonly sent: number;
    readonly lost: number;
    readonly accepted: number;
    /** Refused by the supervisor, by error code. */
    readonly rejected: Readonly<Record<string, number>>;
  };
  readonly admissions: { readonly admitted: number; readonly refused: number };
  readonly compliance: {
    readonly min: number;
    readonly mean: number;
    readonly final: number;
    /** At most about 120 points, evenly spaced over the run. */
    readonly series: readonly CompliancePoint[];
  };
  readonly finalStates: Readonly<Record<NodeState, number>>;
  readonly invariants: readonly InvariantResult[];
  /** True when every applicable invariant held. */
  readonly ok: boolean;
}

const detectable = (e: Expectation) => e !== 'tolerated' && e !== 'online';

/** The detection part of a result, from the incidents. */
export function summariseDetection(incidents: readonly Incident[]): SimulationResult['detection'] {
  const byKind: Partial<Record<FaultKind, KindDetection>> = {};
  const kinds = [...new Set(incidents.map((i) => i.kind))];
  for (const kind of kinds) {
    const mine = incidents.filter((i) => i.kind === kind);
    const count = (outcome: Incident['outcome']) =>
      mine.filter((i) => i.outcome === outcome).length;
    byKind[kind] = {
      incidents: mine.length,
      detected: count('detected'),
      missed: count('missed'),
      pending: count('pending'),
      tolerated: count('tolerated'),
      reacted: count('reacted'),
      latencyMs: latencyStats(mine.map((i) => i.latencyMs)),
    };
  }
  const expected = incidents.filter((i) => detectable(i.expect));
  return {
    detected: expected.filter((i) => i.outcome === 'detected').length,
    missed: expected.filter((i) => i.outcome === 'missed').length,
    pending: expected.filter((i) => i.outcome === 'pending').length,
    latencyMs: latencyStats(expected.map((i) => i.latencyMs)),
    byKind,
  };
}

export function latencyStats(values: ReadonlyArray<number | null>): LatencyStats | null {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] as number;
  return { count: sorted.length, p50: rank(0.5), p95: rank(0.95), max: sorted.at(-1) as number };
}
