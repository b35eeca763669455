import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { nodeMachine } from '../../machines/node.machine.js';
import type { ErrorCode } from '../errors.js';
import { type RuleOutcome, ruleOutcomes } from '../governance/types.js';
import type { Supervisor } from '../supervisor/index.js';
import { actionStatuses, type NodeState, remediationActionTypes } from '../types.js';
import type { FleetFeed } from './fleet-feed.js';
import { processMetrics } from './process-metrics.js';

// The `reason` label of each error a heartbeat is turned away with; any other is `invalid`.
const reasonByCode = {
  WYNEOS_ERR_UNKNOWN_NODE: 'unknown-node',
  WYNEOS_ERR_STALE_HEARTBEAT: 'stale',
  WYNEOS_ERR_RATE_LIMITED: 'rate-limited',
  WYNEOS_ERR_UNAUTHENTICATED: 'unauthenticated',
  WYNEOS_ERR_FORBIDDEN: 'forbidden',
  WYNEOS_ERR_BODY_TOO_LARGE: 'too-large',
  WYNEOS_ERR_STOPPED: 'stopped',
} as const satisfies Partial<Record<ErrorCode, string>>;

/** Why a heartbeat was turned away, as the `reason` label of the rejected counter. */
export type RejectReason = 'invalid' | (typeof reasonByCode)[keyof typeof reasonByCode];

/** The `reason` label of a heartbeat refused with error `code`. */
export function rejectReason(code: ErrorCode): RejectReason {
  return Object.hasOwn(reasonByCode, code)
    ? reasonByCode[code as keyof typeof reasonByCode]
    : 'invalid';
}

// Every label value known ahead is exported at 0 from the start, so that `rate()` and absence
// alerts work before the first event. Each list comes from where it is defined.
const rejectReasons: readonly RejectReason[] = ['invalid', ...Object.values(reasonByCode)];
const states = Object.keys(nodeMachine.config.states ?? {}) as NodeState[];

/**
 * The Prometheus metrics of one plugin instance, in a registry of its own (so two supervisors
 * in one process, or tests, never share counters). Fed by the supervisor's streams and by the
 * heartbeat route.
 */
export class HttpMetrics {
  readonly registry = new Registry();
  private readonly accepted: Counter;
  private readonly rejected: Counter<'reason'>;
  private readonly streams: Gauge;
  private readonly streamsDropped: Counter;
  private readonly streamsRefused: Counter;
  private readonly subscriptions: Subscription[];

  constructor(supervisor: Supervisor, feed: FleetFeed) {
    const registers = [this.registry];
    for (const metric of processMetrics()) this.registry.registerMetric(metric);
    this.accepted = new Counter({
      name: 'wyneos_heartbeats_accepted_total',
      help: 'Heartbeats accepted over HTTP.',
      registers,
    });
    this.rejected = new Counter({
      name: 'wyneos_heartbeats_rejected_total',
      help: 'Heartbeats turned away over HTTP, by reason.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of rejectReasons) this.rejected.inc({ reason }, 0);
    this.streams = new Gauge({
      name: 'wyneos_sse_clients',
      help: 'Event streams (GET /v1/events) open now.',
      registers,
    });
    this.streamsDropped = new Counter({
      name: 'wyneos_sse_clients_dropped_total',
      help: 'Event stream clients dropped because they read too slowly (their buffer passed the limit).',
      registers,
    });
    this.streamsRefused = new Counter({
      name: 'wyneos_sse_clients_refused_total',
      help: 'Event streams refused with 503 because the most allowed were open.',
      registers,
    });
    new Gauge({
      name: 'wyneos_nodes',
      help: 'Registered nodes by lifecycle state, as of the latest tick.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = feed.lastTick?.states ?? countStates(supervisor);
        for (const state of states) this.set({ state }, counts[state]);
      },
    });
    const rules = new Gauge({
      name: 'wyneos_rule_results',
      help: "Results of each rule by outcome, in the latest tick's governance report.",
      labelNames: ['rule', 'outcome'],
      registers,
    });
    const ruleResults = (ruleId: string, count: (outcome: RuleOutcome) => number) => {
      for (const outcome of ruleOutcomes) rules.set({ rule: ruleId, outcome }, count(outcome));
    };
    // Until the first report, the policy's rules at 0.
    for (const rule of supervisor.policy().rules) ruleResults(rule.id, () => 0);
    const actions = new Counter({
      name: 'wyneos_actions_total',
      help: 'Remediation action steps, by action type and status.',
      labelNames: ['type', 'status'],
      registers,
    });
    for (const type of remediationActionTypes) {
      for (const status of actionStatuses) actions.inc({ type, status }, 0);
    }
    const tickDuration = new Histogram({
      name: 'wyneos_tick_duration_seconds',
      help: 'How long each tick took to compute.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    new Gauge({
      name: 'wyneos_storage_degraded',
      help: '1 while a write to the state store or audit log fails and changes are refused.',
      registers,
      collect() {
        this.set(supervisor.storage().degraded ? 1 : 0);
      },
    });
    let failuresSeen = 0;
    new Counter({
      name: 'wyneos_storage_write_failures_total',
      help: 'Writes to the state store or audit log that failed.',
      registers,
      collect() {
        // The supervisor counts; a counter only goes up, so it takes what is new since last read.
        const failures = supervisor.storage().failedWrites;
        if (failures > failuresSeen) this.inc(failures - failuresSeen);
        failuresSeen = failures;
      },
    });
    const lag = new Gauge({
      name: 'wyneos_event_loop_lag_seconds',
      help: 'The longest event-loop delay between the two latest ticks.',
      registers,
    });

    this.subscriptions = [
      supervisor.actions$.subscribe((a) => actions.inc({ type: a.type, status: a.status })),
      supervisor.ticks$.subscribe((tick) => {
        tickDuration.observe(tick.durationMs / 1000);
        if (tick.eventLoopLagMs !== undefined) lag.set(tick.eventLoopLagMs / 1000);
      }),
      supervisor.reports$.subscribe((report) => {
        // A rule removed by a new policy must not linger with its last counts.
        rules.reset();
        for (const rule of report.rules) ruleResults(rule.ruleId, (outcome) => rule[outcome]);
      }),
    ];
  }

  heartbeatsAccepted(count: number): void {
    this.accepted.inc(count);
  }

  heartbeatsRejected(reason: RejectReason, count = 1): void {
    this.rejected.inc({ reason }, count);
  }

  sseClients(open: number): void {
    this.streams.set(open);
  }

  sseDropped(): void {
    this.streamsDropped.inc();
  }

  sseRefused(): void {
    this.streamsRefused.inc();
  }

  close(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}

function countStates(supervisor: Supervisor): Record<NodeState, number> {
  const counts = Object.fromEntries(states.map((state) => [state, 0])) as Record<NodeState, number>;
  for (const node of supervisor.nodes()) counts[node.state]++;
  return counts;
}
