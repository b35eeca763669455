import type { Journal } from './journal.js';
import type { SupervisorLicensing } from './licensing.js';
import type { SupervisorOutputs } from './outputs.js';

/**
 * Every decision that leaves through the outputs goes into the audit log too; transitions,
 * admissions and registrations change the durable state.
 */
export function journalOutputs(
  outputs: SupervisorOutputs,
  journal: Journal,
  licensing: SupervisorLicensing,
): void {
  if (!journal.enabled) return;
  outputs.transitions.subscribe(({ nodeId, ...transition }) => {
    journal.record('transition', nodeId, transition);
    journal.changed(nodeId);
  });
  outputs.actions.subscribe(({ nodeId, ...action }) => journal.record('action', nodeId, action));
  outputs.admissions.subscribe(({ nodeId, ...decision }) => {
    journal.record('admission', nodeId, decision);
    if (decision.admitted) journal.changed(nodeId);
  });
  outputs.reports.subscribe(({ tick, policyVersion, fleetCompliance, changes }) => {
    if (changes.newlyFailing.length === 0 && changes.resolved.length === 0) return;
    journal.record('governance', undefined, { tick, policyVersion, fleetCompliance, ...changes });
  });
  licensing.events.subscribe(({ nodeId, ...event }) => journal.record('licence', nodeId, event));
}
