import type { GovernanceReport, Supervisor, TickSummary } from 'wyneos';
import type { SimulatedClock } from 'wyneos/testing';
import { simulatedSupervisor } from '../helpers.js';
import { FleetModel } from './model.js';
import { modelOptions } from './options.js';

/** The system under test: a real supervisor on a simulated clock, and what it emitted. */
export interface Real {
  readonly sup: Supervisor;
  readonly clock: SimulatedClock;
  /** Actions applied since the last comparison, as `origin type nodeId`. */
  actions: string[];
  /** Tick summaries since the last comparison. */
  ticks: TickSummary[];
  /** Governance reports since the last comparison. */
  reports: GovernanceReport[];
}

/** A fresh model and a fresh supervisor (started, silent logger) with the model's options. */
export function setupModelRun(): { model: FleetModel; real: Real } {
  const { sup, clock } = simulatedSupervisor(modelOptions);
  const real: Real = { sup, clock, actions: [], ticks: [], reports: [] };
  sup.actions$.subscribe(({ status, origin, type, nodeId }) => {
    if (status === 'applied') real.actions.push(`${origin} ${type} ${nodeId}`);
  });
  sup.ticks$.subscribe((summary) => real.ticks.push(summary));
  sup.reports$.subscribe((report) => real.reports.push(report));
  return { model: new FleetModel(), real };
}
