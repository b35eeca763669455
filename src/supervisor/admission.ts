import type { AdmissionFailure } from '../errors.js';
import type { GovernanceEngine } from '../governance/index.js';
import type { NodeRegistration } from '../telemetry/index.js';
import type { NodeSnapshot } from '../types.js';

/** What an admission rule sees of a node that is registering: metadata, no telemetry yet. */
export function candidateSnapshot(
  registration: NodeRegistration,
  registeredAt: number,
): NodeSnapshot {
  return {
    id: registration.id,
    state: 'online',
    since: registeredAt,
    reason: 'registering',
    isolations: 0,
    reinstateAt: undefined,
    probationUntil: undefined,
    escalation: 0,
    labels: Object.freeze({ ...registration.labels }),
    version: registration.version,
    registeredAt,
    load: 0,
    metrics: Object.freeze({}),
    seq: undefined,
    lastHeartbeatAt: undefined,
    suspicion: 0,
    trust: 1,
  };
}

/** Every admission rule each registration fails, by node id (nodes that pass are absent). */
export function admissionFailures(
  engine: GovernanceEngine,
  registrations: readonly NodeRegistration[],
  at: number,
  tick: number,
  fleetSize: number,
): Map<string, AdmissionFailure[]> {
  const failed = new Map<string, AdmissionFailure[]>();
  if (!engine.hasAdmissionRules) return failed;
  const ctx = { tick, at, fleetSize: fleetSize + registrations.length };
  for (const registration of registrations) {
    const failures = engine.admit(candidateSnapshot(registration, at), ctx);
    if (failures.length > 0) failed.set(registration.id, failures);
  }
  return failed;
}
