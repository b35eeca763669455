import type { SimulatedClock } from 'xstate';
import type { Supervisor, SupervisorOptions } from '../supervisor/index.js';
import type { Labels, NodeState } from '../types.js';
import type { Fault } from './faults.js';
import type { Invariant } from './invariants.js';
import type { SimulationResult } from './result.js';

/** The options of {@link createSimulatedFleet}: the fleet, its faults and its supervisor. */
export interface SimulatedFleetOptions {
  /** How many nodes, named `node-0001`, `node-0002`, ... Default: 100. */
  readonly nodes?: number;
  /** Every random choice comes from it: the same seed gives the same run. Default: 1. */
  readonly seed?: number;
  /** The supervisor's tick. Default: 1000. */
  readonly tickMs?: number;
  /** How often healthy nodes beat (each node's clock is off by up to 1%). Default: `tickMs`. */
  readonly heartbeatIntervalMs?: number;
  /** Faults to inject, each at its own time. Default: none. */
  readonly faults?: readonly Fault[];
  /** The supervisor's options (policy, timeouts, safety, ...); the clock and tick are the fleet's. */
  readonly supervisor?: Omit<SupervisorOptions, 'clock' | 'tickMs'>;
  /** Labels and version of node `index` (from 0). Default: a region and zone, version 1.4.2. */
  readonly identity?: (index: number) => { readonly labels?: Labels; readonly version?: string };
  /** Invariants checked as the run goes. Default: every built-in one (`invariants`). */
  readonly invariants?: readonly Invariant[];
  /**
   * Run with licensing: the fleet signs every node a licence for a year and the supervisor
   * trusts its key. Default: on when `faults` has a licence fault, off otherwise.
   */
  readonly licensing?: boolean;
}

/** How far a run has got, for progress displays. */
export interface SimulationProgress {
  readonly at: number;
  readonly durationMs: number;
  readonly ticks: number;
  readonly states: Readonly<Record<NodeState, number>>;
  readonly actions: number;
}

/** A real supervisor driving a simulated fleet under a simulated clock. */
export interface SimulatedFleet {
  readonly supervisor: Supervisor;
  readonly clock: SimulatedClock;
  readonly nodeIds: readonly string[];
  /** Simulated time, in ms since the start. */
  now(): number;
  /** Moves simulated time on by `ms`: nodes beat, faults start and end, the supervisor ticks. */
  advance(ms: number): void;
  /** Advances `durationMs` in slices, yielding to the event loop between them, then returns the result. */
  run(
    durationMs: number,
    options?: { readonly onProgress?: (progress: SimulationProgress) => void },
  ): Promise<SimulationResult>;
  /** Schedules one more fault (its `at` must not be in the past). */
  inject(fault: Fault): void;
  /** What happened so far. */
  result(): SimulationResult;
  /** Stops the supervisor; the fleet cannot run again. */
  stop(): Promise<void>;
}
