import type { Supervisor } from '../supervisor/index.js';
import type { GroundTruth } from './ground-truth.js';
import type { InvariantMonitor } from './invariants.js';
import type { RunRecorder } from './recorder.js';
import type { SimNode } from './sim-node.js';

/**
 * Feeds what a simulated fleet's supervisor decides to the run's record, the ground truth and
 * the invariants, as it happens; and keeps each simulated node's idea of its state up to date.
 */
export function observeRun(
  supervisor: Supervisor,
  run: {
    readonly byId: ReadonlyMap<string, SimNode>;
    readonly recorder: RunRecorder;
    readonly truth: GroundTruth;
    readonly monitors: readonly InvariantMonitor[];
  },
): void {
  const { byId, recorder, truth, monitors } = run;
  supervisor.transitions$.subscribe((t) => {
    const node = byId.get(t.nodeId);
    if (node !== undefined) node.state = t.to;
    recorder.transition(t);
    truth.observe(t.nodeId, t.to, t.at, t.reason);
    for (const m of monitors) m.transition?.(t);
  });
  supervisor.actions$.subscribe((record) => {
    recorder.action(record);
    if (record.type === 'reduce-load' && record.status === 'proposed') {
      truth.observe(record.nodeId, 'reduce-load', record.at);
    }
    for (const m of monitors) m.action?.(record);
  });
  supervisor.reports$.subscribe((report) => {
    for (const { nodeId } of report.changes.newlyFailing)
      truth.observe(nodeId, 'non-compliant', report.at);
    for (const m of monitors) m.report?.(report);
  });
  supervisor.admissions$.subscribe((decision) => {
    recorder.admission(decision.admitted);
    if (!decision.admitted) truth.observe(decision.nodeId, 'admission-refused', decision.at);
  });
  supervisor.ticks$.subscribe((summary) => {
    recorder.tick(summary);
    for (const m of monitors) m.tick?.(summary);
  });
}
