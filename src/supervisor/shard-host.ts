import type { AnyActorRef, AnyStateMachine } from 'xstate';
import type { NodeActorRef, SupervisorEvent } from '../../machines/supervisor.machine.js';
import type { Clock } from '../clock.js';
import type { GovernanceEngine } from '../governance/index.js';
import type { FleetCondition, SafetyGuard } from '../healing/index.js';
import type { Logger } from '../logger.js';
import { type DurableNode, type DurableState, stateFormatVersion } from '../storage/index.js';
import type { TelemetryStore } from '../telemetry/index.js';
import { restoreState } from './durability.js';
import type { Capture, Journal } from './journal.js';
import type { SupervisorLicensing } from './licensing.js';
import type { NodeBook, nodeBookKey } from './node-book.js';
import type { Supervisor } from './types.js';

/**
 * What the rest of the fleet looks like to the safety limits: the nodes other supervisors hold,
 * counted as `FleetCondition` counts them. Summed with this supervisor's own on every tick.
 */
export interface PeerCounts {
  readonly nodeCount: number;
  readonly isolated: number;
  readonly offline: number;
  readonly recentlyOffline: number;
}

/** What a distributed deployment needs beyond the public options. */
export interface SupervisorInternals {
  /** Counts of the nodes other supervisors hold, read on every tick. */
  readonly peers?: () => PeerCounts;
  /** Hands a test the machine as provided and its running actor (to resolve it by hand). */
  readonly expose?: (machine: AnyStateMachine, actor: AnyActorRef) => void;
}

/**
 * A supervisor that can take nodes over from another (a shard handover) and hand
 * them back, without registering or deregistering them: they stay registered in the fleet.
 */
export interface ShardHost extends Supervisor {
  /** Everything kept per node, for the parts outside the supervisor to join (the HTTP feed). */
  readonly [nodeBookKey]: NodeBook;
  /**
   * Takes these nodes over in the state they were saved in, with one heartbeat timeout of
   * grace (they are watched from now). Nodes it already has are skipped. Returns how many it
   * took.
   */
  adopt(nodes: readonly DurableNode[], overrides: DurableState['overrides']): number;
  /**
   * Lets these nodes go: forgotten here, not deregistered from the fleet. Their state is
   * committed first, so what was decided for them is written before anyone else takes them.
   */
  release(nodeIds: readonly string[]): void;
  /**
   * The durable records of these nodes as they are now, saved or not: what a shard whose
   * lease ran out keeps of the decisions not yet written, for when it comes back.
   */
  records(nodeIds: readonly string[]): Pick<DurableState, 'nodes' | 'overrides'>;
}

interface HostParts {
  readonly store: TelemetryStore<NodeActorRef>;
  readonly safety: SafetyGuard;
  readonly governance: GovernanceEngine;
  readonly clock: Clock;
  readonly journal: Journal;
  readonly send: (event: SupervisorEvent) => void;
  readonly nodeActors: ReadonlyMap<string, NodeActorRef>;
  readonly book: NodeBook;
  readonly licensing: SupervisorLicensing;
  readonly log: Logger;
  readonly boots: number;
  /** Saves the durable state now (starting the write; `durable()` says when it landed). */
  readonly commit: () => void;
  /** The durable state now, as a commit would save it. */
  readonly capture: Capture;
}

/** The adopt and release operations of a supervisor, over its parts. */
export function shardOperations(
  parts: HostParts,
): Pick<ShardHost, 'adopt' | 'release' | 'records'> {
  const { store, governance, journal, send, log } = parts;
  return {
    adopt(nodes, overrides) {
      const fresh: DurableNode[] = [];
      for (const node of nodes) {
        if (store.get(node.id) === undefined) fresh.push(node);
        // One it has already may differ from what the store holds of it: saved at the next commit.
        else journal.changed(node.id);
      }
      if (fresh.length === 0) return 0;
      const ids = new Set(fresh.map((node) => node.id));
      const state: DurableState = {
        format: 'wyneos-state',
        version: stateFormatVersion,
        savedAt: parts.clock.now(),
        boots: parts.boots,
        policyVersion: governance.policy.version,
        nodes: fresh,
        overrides: {
          protected: overrides.protected.filter((id) => ids.has(id)),
          pinned: overrides.pinned.filter((id) => ids.has(id)),
        },
        exemptions: [],
      };
      restoreState(state, { ...parts, send, log });
      journal.record('registration', undefined, { adopted: fresh.length });
      return fresh.length;
    },
    release(nodeIds) {
      const present = nodeIds.filter((id) => store.get(id) !== undefined);
      if (present.length === 0) return;
      parts.commit();
      // As a deregistration does: everything kept per node goes (it had not: trust, trends,
      // licences and held actions outlived a release).
      parts.book.forget(present);
      journal.record('registration', undefined, { released: present.length });
    },
    records(nodeIds) {
      const ids = new Set(nodeIds);
      const { nodes, overrides } = parts.capture(ids);
      return {
        nodes: nodes.filter((node) => ids.has(node.id)),
        overrides: {
          protected: overrides.protected.filter((id) => ids.has(id)),
          pinned: overrides.pinned.filter((id) => ids.has(id)),
        },
      };
    },
  };
}

/** The fleet as the safety limits see it: this supervisor's nodes plus its peers'. */
export function withPeers(local: FleetCondition, peers: PeerCounts | undefined): FleetCondition {
  if (peers === undefined) return local;
  return {
    ...local,
    nodeCount: local.nodeCount + peers.nodeCount,
    isolated: local.isolated + peers.isolated,
    offline: local.offline + peers.offline,
    recentlyOffline: local.recentlyOffline + peers.recentlyOffline,
  };
}
