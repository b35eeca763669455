import type {
  NodeActorRef,
  NodeSpawn,
  SupervisorEvent,
} from '../../machines/supervisor.machine.js';
import type { Clock } from '../clock.js';
import { WyneosError } from '../errors.js';
import type { GovernanceEngine } from '../governance/index.js';
import type { SafetyGuard } from '../healing/index.js';
import type { Logger } from '../logger.js';
import { type DurableNode, type DurableState, stateFormatVersion } from '../storage/index.js';
import type { TelemetryStore } from '../telemetry/index.js';
import type { NodeState } from '../types.js';
import type { SupervisorLicensing } from './licensing.js';

/** The parts of a supervisor its durable state is taken from and put back into. */
export interface DurableParts {
  readonly store: TelemetryStore<NodeActorRef>;
  readonly safety: SafetyGuard;
  readonly governance: GovernanceEngine;
  readonly clock: Clock;
  readonly licensing: SupervisorLicensing;
}

/**
 * The supervisor's durable state now: every node's registration and lifecycle (or only those
 * of `nodeIds` still registered), overrides, exemptions.
 */
export function captureState(
  parts: DurableParts,
  boots: number,
  nodeIds?: ReadonlySet<string>,
): DurableState {
  const { store, safety, governance, clock, licensing } = parts;
  // Another supervisor's revocations first, so saving ours never drops theirs.
  licensing.pollShared();
  const at = clock.now();
  const nodes: DurableNode[] = [];
  const records = nodeIds === undefined ? store.values() : [...nodeIds].map((id) => store.get(id));
  for (const record of records) {
    const actor = record?.attached;
    if (record === undefined || actor === undefined) continue;
    const snapshot = actor.getSnapshot();
    const licence = licensing.book?.token(record.id);
    const seq = store.columns.seq[record.slot] as number;
    const epoch = store.columns.epoch[record.slot] as number;
    // A node unchanged since the last capture keeps its object: a store that diffs what it
    // saves (the file journal) then passes over it by identity, and a registration costs no
    // new object per node of the fleet.
    const last = captured.get(record);
    if (
      last !== undefined &&
      last.snapshot === snapshot &&
      last.licence === licence &&
      last.node.seq === seq &&
      (last.node.epoch ?? 0) === epoch
    ) {
      nodes.push(last.node);
      continue;
    }
    const { value, context } = snapshot;
    const node: DurableNode = {
      id: record.id,
      labels: record.labels,
      ...(record.version === undefined ? {} : { version: record.version }),
      registeredAt: record.registeredAt,
      state: value as NodeState,
      since: context.since,
      reason: context.reason,
      isolations: context.isolations,
      reinstateAt: context.reinstateAt,
      probationUntil: context.probationUntil,
      escalation: context.escalation,
      seq,
      ...(epoch === 0 ? {} : { epoch }),
      ...(licence === undefined ? {} : { licence }),
    };
    captured.set(record, { snapshot, licence, node });
    nodes.push(node);
  }
  return {
    format: 'wyneos-state',
    version: stateFormatVersion,
    savedAt: at,
    boots,
    policyVersion: governance.policy.version,
    nodes,
    overrides: { protected: safety.protectedIds(), pinned: safety.pinnedIds() },
    exemptions: governance.exemptions(at),
    revocations: licensing.revocations.list(),
  };
}

// Each node's last capture, by its telemetry record (gone with it).
const captured = new WeakMap<
  object,
  { readonly snapshot: unknown; readonly licence: string | undefined; readonly node: DurableNode }
>();

/**
 * Puts a saved state back into a new supervisor: nodes re-enter the states they were in, with
 * their reasons, backoff and probation; overrides and unexpired exemptions hold again. Nodes
 * are not re-admitted (they were admitted once). The failure detector watches every node from
 * now, so none is declared offline before one heartbeat timeout: the supervisor was not
 * watching while it was down. Every node is unheard until it beats again, so an offline node
 * stays offline, and an isolated one is not reinstated, until a heartbeat proves it alive.
 */
export function restoreState(
  state: DurableState,
  parts: DurableParts & {
    readonly send: (event: SupervisorEvent) => void;
    readonly nodeActors: ReadonlyMap<string, NodeActorRef>;
    readonly log: Logger;
    /**
     * Whether restored nodes must resync: their saved marks lag by up to a tick (the store
     * saves marks on their own), so their first heartbeat must carry the current boot.
     */
    readonly resync?: boolean;
  },
): { readonly nodes: number; readonly droppedExemptions: number } {
  const { store, safety, governance, clock, send, nodeActors, log, licensing } = parts;
  licensing.revocations.merge(state.revocations ?? []);
  const now = clock.now();
  const spawns: NodeSpawn[] = [];
  const records = state.nodes.map((node) => {
    const registration = {
      id: node.id,
      labels: node.labels,
      ...(node.version === undefined ? {} : { version: node.version }),
    };
    spawns.push({
      nodeId: node.id,
      registeredAt: node.registeredAt,
      restored: {
        state: node.state,
        context: {
          since: node.since,
          reason: node.reason,
          isolations: node.isolations,
          reinstateAt: node.reinstateAt,
          probationUntil: node.probationUntil,
          escalation: node.escalation,
        },
      },
    });
    const mark = { seq: node.seq, epoch: node.epoch ?? 0, resync: parts.resync ?? false };
    return store.restore(registration, node.registeredAt, mark, now);
  });
  send({ type: 'NODES.REGISTER', nodes: spawns });
  for (const record of records) record.attached = nodeActors.get(record.id);
  for (const node of state.nodes) {
    if (node.licence === undefined || licensing.book === undefined) continue;
    const invalid = licensing.book.restore(node.id, node.licence, now);
    if (invalid !== undefined)
      log.warn({ nodeId: node.id, problem: invalid }, 'saved licence no longer checks');
  }
  for (const id of state.overrides.protected) if (store.get(id)) safety.protect(id);
  for (const id of state.overrides.pinned) if (store.get(id)) safety.pin(id);
  let droppedExemptions = 0;
  for (const { id: _id, ...request } of state.exemptions) {
    if (request.until <= now) continue;
    try {
      governance.exempt(request, now);
    } catch (error) {
      // An exemption for a rule the policy no longer has cannot hold: say so, keep starting.
      if (!(error instanceof WyneosError)) throw error;
      droppedExemptions++;
      log.warn({ ruleId: request.ruleId, error: error.message }, 'saved exemption dropped');
    }
  }
  return { nodes: records.length, droppedExemptions };
}
