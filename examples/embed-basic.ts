/**
 * A service that embeds a wyneos supervisor: its workers heartbeat to it, and it carries out
 * what the supervisor decides (here it only logs; a real service would drain, rebalance or
 * restart). Run it with `npx tsx examples/embed-basic.ts` after `npm ci`.
 */
import { type Clock, createSupervisor, defineRule, type Supervisor } from 'wyneos';

export interface ServiceOptions {
  /** Pass a simulated clock to run it in a test; the default is the system clock. */
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
}

export function startService({ clock, log = console.log }: ServiceOptions = {}) {
  const supervisor: Supervisor = createSupervisor({
    tickMs: 200,
    heartbeatTimeoutMs: 600,
    overload: { high: 0.9, low: 0.6, ticks: 2 },
    rules: [
      defineRule({
        id: 'max-queue',
        description: 'queue depth stays under 1,000',
        evaluate: (node) => ({
          ok: (node.metrics.queue ?? 0) < 1000,
          message: `queue depth is ${node.metrics.queue}`,
        }),
      }),
    ],
    ...(clock === undefined ? {} : { clock }),
  });

  // Act on each action once, when it is proposed (a hook registered with `onAction` is the
  // other way: then the supervisor runs it and records whether it worked).
  supervisor.actions$.subscribe((action) => {
    if (action.status !== 'proposed') return;
    switch (action.type) {
      case 'reduce-load':
        log(`rebalancing: moving jobs away from ${action.nodeId} (${action.reason})`);
        break;
      case 'isolate':
        log(`draining ${action.nodeId}: ${action.reason}`);
        break;
      case 'reinstate':
        log(`sending jobs to ${action.nodeId} again`);
        break;
    }
  });
  supervisor.transitions$.subscribe((t) => log(`${t.nodeId}: ${t.from} -> ${t.to} (${t.reason})`));
  supervisor.reports$.subscribe((report) => {
    for (const result of report.results)
      log(`policy: ${result.ruleId} ${result.outcome}s on ${result.nodeId}`);
  });

  supervisor.start();
  for (const id of ['worker-1', 'worker-2', 'worker-3']) {
    supervisor.register({ id, labels: { pool: 'gpu' }, version: '2.1.0' });
  }
  return supervisor;
}

/** Three workers report for a while: worker-2 runs hot, worker-3 stops answering. */
export function simulateWorkers(supervisor: Supervisor, beat: number): void {
  supervisor.heartbeat({ nodeId: 'worker-1', seq: beat, load: 0.4, metrics: { queue: 12 } });
  supervisor.heartbeat({
    nodeId: 'worker-2',
    seq: beat,
    load: beat < 6 ? 0.95 : 0.3,
    metrics: { queue: beat < 6 ? 1500 : 40 },
  });
  if (beat < 3)
    supervisor.heartbeat({ nodeId: 'worker-3', seq: beat, load: 0.2, metrics: { queue: 3 } });
}

// Run directly: real time, 20 beats of 100 ms, then stop.
if (import.meta.url === `file://${process.argv[1]}`) {
  const supervisor = startService();
  let beat = 0;
  const timer = setInterval(() => {
    beat++;
    simulateWorkers(supervisor, beat);
    if (beat === 20) {
      clearInterval(timer);
      void supervisor.stop();
    }
  }, 100);
}
