import type { DurableNode, DurableState } from '../../src/index.js';
import { stateFormatVersion } from '../../src/storage/index.js';

// A supervisor's durable state as the NATS store tests write it: the smallest valid one.

/** A node in `state` since time 1 (isolated once if it is isolated). */
export function durableNode(id: string, state: DurableNode['state']): DurableNode {
  return {
    id,
    labels: {},
    registeredAt: 1,
    state,
    since: 1,
    reason: state,
    isolations: state === 'isolated' ? 1 : 0,
    reinstateAt: null,
    probationUntil: null,
    escalation: 0,
    seq: 1,
  };
}

/** A state holding `nodes` and nothing else. */
export function durableState(nodes: DurableNode[]): DurableState {
  return {
    format: 'wyneos-state',
    version: stateFormatVersion,
    savedAt: 10,
    boots: 1,
    policyVersion: 'p',
    nodes,
    overrides: { protected: [], pinned: [] },
    exemptions: [],
  };
}
