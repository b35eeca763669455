import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { InvalidArgumentError, NodeHeldElsewhereError, UnknownNodeError } from '../errors.js';
import { Exemptions } from '../governance/exemptions.js';
import { policySource } from '../governance/index.js';
import { type Revocation, RevocationList } from '../licensing/index.js';
import type { ShardHost, Supervisor } from '../supervisor/index.js';
import type { OverrideKind, SharedSettings } from './shared-settings.js';

/**
 * The supervisor a distributed deployment hands out (to the HTTP API, to code): the shard host
 * itself, but its fleet-wide settings (policy, exemptions, protect and pin, revocations) go
 * through KV, so a change made on any supervisor reaches all of them. Each change is checked
 * here first, as the supervisor would check it (bad input throws its usual error and nothing is
 * written), then written; it applies here and everywhere once written, and `durable()` settles
 * once it is (or rejects: a conflict, a node unknown to the fleet, a failed write).
 */
export function sharedSupervisor(
  host: ShardHost,
  settings: SharedSettings,
  parts: {
    readonly clock: Clock;
    /** Whether this supervisor holds the node's shard (then a node it lacks is unknown). */
    readonly holdsShardOf: (nodeId: string) => boolean;
    readonly shardOf: (nodeId: string) => number;
  },
): Supervisor {
  const { clock, holdsShardOf, shardOf } = parts;

  // Commands only the holder can carry out: refused here, saying so, rather than as unknown.
  function mustHold(nodeId: unknown): void {
    if (typeof nodeId !== 'string' || host.node(nodeId) !== undefined || holdsShardOf(nodeId))
      return;
    throw new NodeHeldElsewhereError(nodeId, shardOf(nodeId));
  }

  function override(kind: OverrideKind, nodeId: unknown, on: unknown): void {
    if (typeof nodeId !== 'string') {
      throw new InvalidArgumentError('nodeId', `expected a string, got ${typeof nodeId}`);
    }
    if (typeof on !== 'boolean') {
      throw new InvalidArgumentError('on', `expected a boolean, got ${typeof on}`);
    }
    // Held here, it is known here; its shard held here, it is unknown; held elsewhere, it is
    // looked up in KV before the write.
    const here = host.node(nodeId) !== undefined;
    if (!here && holdsShardOf(nodeId)) throw new UnknownNodeError(nodeId);
    settings.override(kind, nodeId, on, !here);
  }

  return {
    ...host,

    isolate(nodeId, reason) {
      mustHold(nodeId);
      return host.isolate(nodeId, reason);
    },

    reinstate(nodeId, reason) {
      mustHold(nodeId);
      return host.reinstate(nodeId, reason);
    },

    deregister(nodeId) {
      mustHold(nodeId);
      host.deregister(nodeId);
    },

    setPolicy(policy) {
      const data = policySource(policy);
      if (data === undefined) {
        throw new InvalidArgumentError(
          'policy',
          'on NATS the policy is shared as data: give one from parsePolicy or loadPolicyFile (YAML or JSON), not rules in code',
        );
      }
      settings.setPolicy(data, policy.version, settings.policyRevision());
    },

    exempt(request) {
      const ruleIds = new Set(host.policy().rules.map((rule) => rule.id));
      const checked = new Exemptions().add(request, clock.now(), (id) => ruleIds.has(id));
      // Named fleet-wide: each supervisor numbers its own copies, the fleet's list keeps this.
      const exemption = { ...checked, id: `exemption-${randomUUID().slice(0, 8)}` };
      settings.exempt(exemption);
      return exemption;
    },

    exemptions() {
      return settings.exemptions(clock.now());
    },

    protect(nodeId, on = true) {
      override('protected', nodeId, on);
    },

    pin(nodeId, on = true) {
      override('pinned', nodeId, on);
    },

    revoke(licenceId, reason) {
      // A list of its own checks the input, as the supervisor's would; a repeat returns the first.
      // A fresh list: never a repeat there, so it returns the revocation.
      const revocation = new RevocationList().revoke(licenceId, reason, clock.now()) as Revocation;
      const earlier = host.revocations().find((r) => r.licenceId === licenceId);
      if (earlier !== undefined) return earlier;
      settings.revoke(revocation);
      return revocation;
    },

    async durable() {
      await Promise.all([host.durable(), settings.settled()]);
    },
  };
}
