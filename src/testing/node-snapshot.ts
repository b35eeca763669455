import type { NodeSnapshot } from '../types.js';

/**
 * A node as a tick would see it, for testing rules with `evaluateRules` or a planner without a
 * supervisor: an online node with no telemetry yet, with your fields on top.
 *
 * @example
 * const report = evaluateRules(policy, {
 *   tick: 1,
 *   at: 0,
 *   nodes: [createNodeSnapshot({ id: 'a', load: 0.97, labels: { region: 'eu' } })],
 * });
 */
export function createNodeSnapshot(fields: Partial<NodeSnapshot> & { id: string }): NodeSnapshot {
  return {
    state: 'online',
    since: 0,
    reason: 'registered',
    isolations: 0,
    reinstateAt: undefined,
    probationUntil: undefined,
    escalation: 0,
    labels: {},
    version: undefined,
    registeredAt: 0,
    load: 0,
    metrics: {},
    seq: undefined,
    lastHeartbeatAt: undefined,
    suspicion: 0,
    trust: 1,
    ...fields,
  };
}
