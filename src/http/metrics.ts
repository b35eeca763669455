import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { Supervisor } from '../supervisor/index.js';
import type { NodeState } from '../types.js';
import type { FleetFeed } from './fleet-feed.js';

/** Why a heartbeat was turned away, as the `reason` label of the rejected counter. */
export type RejectReason =
  | 'invalid'
  | 'unknown-node'
  | 'stale'
  | 'rate-limited'
  | 'unauthenticated'
  | 'forbidden'
  | 'too-large'
  | 'stopped';

const states: readonly NodeState[] = ['online', 'overloaded', 'isolated', 'offline'];
const outcomes = ['pass', 'fail', 'warn', 'error', 'skip'] as const;

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
    const actions = new Counter({
      name: 'wyneos_actions_total',
      help: 'Remediation action steps, by action type and status.',
      labelNames: ['type', 'status'],
      registers,
    });
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
        for (const rule of report.rules) {
          for (const outcome of outcomes) rules.set({ rule: rule.ruleId, outcome }, rule[outcome]);
        }
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
  const counts = { online: 0, overloaded: 0, isolated: 0, offline: 0 };
  for (const node of supervisor.nodes()) counts[node.state]++;
  return counts;
}
