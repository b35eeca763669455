import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TickReview } from '../../machines/supervisor.machine.js';
import { type Clock, systemClock } from '../clock.js';
import type { GovernanceReport } from '../governance/index.js';
import type { FailureDetector } from '../healing/index.js';
import type { DetectorState } from '../telemetry/index.js';
import type { TrustOptions } from '../trust/index.js';
import type { FleetSnapshot, NodeState } from '../types.js';
import type { SupervisorOutputs } from './outputs.js';
import { countStates, type SuspicionReader } from './snapshot.js';
import type { TickSummary } from './types.js';

/**
 * The supervisor's bookkeeping across ticks: whether it can trust its own view of time
 * (self-distrust), what the tick in progress has done, and the fleet's health.
 */
export class TickBook {
  /** Silence from before this time does not count: the supervisor was not watching. */
  private watchedSince = Number.NEGATIVE_INFINITY;
  private lastTickAt: number | undefined;
  private progress:
    | { startedAt: number; states: Record<NodeState, number>; transitions: number }
    | undefined;
  private degraded: readonly string[] = [];
  // Event-loop lag, measured only on real time: a simulated clock has no loop to be late on.
  private readonly loopDelay;
  lastSummary: TickSummary | undefined;

  constructor(
    private readonly options: {
      readonly tickMs: number;
      readonly lateToleranceMs: number;
      readonly detector: FailureDetector<DetectorState>;
      readonly trust: TrustOptions;
    },
    private readonly outputs: SupervisorOutputs,
    clock: Clock,
  ) {
    this.loopDelay = clock === systemClock ? monitorEventLoopDelay({ resolution: 20 }) : undefined;
  }

  /**
   * Ticking starts at `at`: the first tick is late when it comes long after this (a process
   * stalled, or busy registering a fleet, before its first tick), as any later one is.
   */
  start(at: number): void {
    this.lastTickAt = at;
    this.loopDelay?.enable();
  }

  stop(): void {
    this.loopDelay?.disable();
  }

  reader(at: number): SuspicionReader {
    return {
      detector: this.options.detector,
      at,
      watchedSince: this.watchedSince,
      trust: this.options.trust,
    };
  }

  /**
   * A tick starts at `at`. A clock-driven tick that comes late means the supervisor was not
   * watching (a GC pause, a blocked loop): heartbeats sent meanwhile may not have been read
   * yet, so nobody's silence is counted from before one tick ago.
   */
  begin(tick: number, at: number, clockDriven: boolean): void {
    const late = this.lastTickAt === undefined ? 0 : at - this.lastTickAt - this.options.tickMs;
    if (clockDriven && late > this.options.lateToleranceMs) {
      this.watchedSince = at - this.options.tickMs;
      this.outputs.selfDistrust(late, tick);
    }
    this.lastTickAt = at;
  }

  /** The tick's snapshot is taken: count its states, to be kept up to date by `transition`. */
  snapshotTaken(snapshot: FleetSnapshot): void {
    this.progress = {
      startedAt: performance.now(),
      states: countStates(snapshot.nodes),
      transitions: 0,
    };
  }

  transition(from: NodeState, to: NodeState): void {
    if (this.progress === undefined) return;
    this.progress.states[from]--;
    this.progress.states[to]++;
    this.progress.transitions++;
  }

  /**
   * The tick is applied: note the fleet's health and sum the tick up. `also` names what else
   * degrades the fleet (`storage`), beyond what the safety review found.
   */
  finish(
    snapshot: FleetSnapshot,
    review: TickReview,
    report: GovernanceReport,
    also: readonly string[] = [],
  ): TickSummary {
    const progress = this.progress ?? {
      startedAt: performance.now(),
      states: countStates(snapshot.nodes),
      transitions: 0,
    };
    const degraded = also.length === 0 ? review.degraded : [...review.degraded, ...also];
    if (degraded.join() !== this.degraded.join()) {
      this.outputs.fleetHealth(degraded, snapshot.tick, snapshot.at);
    }
    this.degraded = degraded;
    const summary: TickSummary = {
      tick: snapshot.tick,
      at: snapshot.at,
      durationMs: performance.now() - progress.startedAt,
      nodeCount: snapshot.nodes.length,
      states: progress.states,
      transitions: progress.transitions,
      actions: review.approved.length,
      held: review.held.length,
      degraded,
      eventLoopLagMs: this.loopDelay === undefined ? undefined : this.loopDelay.max / 1e6,
      fleetCompliance: report.fleetCompliance,
      violations: report.results.filter((r) => r.outcome === 'fail' || r.outcome === 'error')
        .length,
    };
    this.progress = undefined;
    this.loopDelay?.reset();
    this.lastSummary = summary;
    return summary;
  }
}
