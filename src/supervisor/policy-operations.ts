import type { Clock } from '../clock.js';
import type { GovernanceEngine } from '../governance/index.js';
import type { SafetyGuard } from '../healing/index.js';
import type { TraceRecorder } from '../replay/recorder.js';
import type { Journal } from './journal.js';
import type { SupervisorOutputs } from './outputs.js';
import type { Supervisor } from './types.js';

/**
 * The operator's commands on policy and safety: the policy and its exemptions, the protect and
 * pin overrides. Each change is durable before it returns (`durably`).
 */
export function policyOperations(parts: {
  readonly governance: GovernanceEngine;
  readonly safety: SafetyGuard;
  readonly outputs: SupervisorOutputs;
  readonly journal: Journal;
  readonly clock: Clock;
  readonly existing: (nodeId: unknown, operation: string) => { readonly id: string };
  readonly assertRunning: (operation: string) => void;
  readonly durably: <T>(operation: string, run: () => T) => T;
  readonly recorder: TraceRecorder | undefined;
}): Pick<
  Supervisor,
  'policy' | 'setPolicy' | 'exempt' | 'exemptions' | 'protect' | 'pin' | 'overrides'
> {
  const {
    governance,
    safety,
    outputs,
    journal,
    clock,
    existing,
    assertRunning,
    durably,
    recorder,
  } = parts;
  return {
    policy() {
      return governance.policy;
    },

    setPolicy(policy) {
      assertRunning('set a policy');
      durably('set a policy', () => {
        const from = governance.policy.version;
        governance.setPolicy(policy);
        outputs.policyChanged(from, policy.version, policy.rules.length);
        journal.record('policy', undefined, {
          from,
          to: policy.version,
          rules: policy.rules.length,
        });
      });
    },

    exempt(request) {
      assertRunning('add an exemption');
      const exemption = durably('add an exemption', () => {
        const exemption = governance.exempt(request, clock.now());
        journal.record('operator', exemption.nodeId, { command: 'exempt', ...exemption });
        return exemption;
      });
      recorder?.operator('exempt', exemption.nodeId ?? '', request, clock.now());
      return exemption;
    },

    exemptions() {
      return governance.exemptions(clock.now());
    },

    protect(nodeId, on = true) {
      const id = existing(nodeId, 'protect a node').id;
      durably('protect a node', () => {
        safety.protect(id, on);
        journal.record('operator', id, { command: 'protect', on });
      });
      recorder?.operator('protect', id, on, clock.now());
    },

    pin(nodeId, on = true) {
      const id = existing(nodeId, 'pin a node').id;
      durably('pin a node', () => {
        safety.pin(id, on);
        journal.record('operator', id, { command: 'pin', on });
      });
      recorder?.operator('pin', id, on, clock.now());
    },

    overrides() {
      return { protected: safety.protectedIds(), pinned: safety.pinnedIds() };
    },
  };
}
