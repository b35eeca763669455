import type {
  NodeActorRef,
  SupervisorContext,
  SupervisorEvent,
} from '../../machines/supervisor.machine.js';
import {
  AdmissionDeniedError,
  FleetFullError,
  InvalidArgumentError,
  UnknownNodeError,
} from '../errors.js';
import type { GovernanceEngine } from '../governance/index.js';
import type { NodeRegistration } from '../telemetry/index.js';
import { parseRegistration, type TelemetryStore } from '../telemetry/index.js';
import type { ActionProposal, NodeLifecycleEvent, NodeSnapshot } from '../types.js';
import { admissionFailures } from './admission.js';
import type { SupervisorLicensing } from './licensing.js';
import type { ResolvedOptions } from './options.js';
import type { SupervisorOutputs } from './outputs.js';
import { nodeSnapshot } from './snapshot.js';
import type { TickBook } from './tick-book.js';

/** What the operations need of the supervisor they act on. */
export interface NodeOperationsDeps {
  readonly config: ResolvedOptions;
  readonly store: TelemetryStore<NodeActorRef>;
  readonly outputs: SupervisorOutputs;
  readonly governance: GovernanceEngine;
  readonly book: TickBook;
  readonly actor: {
    send(event: SupervisorEvent): void;
    getSnapshot(): { readonly context: SupervisorContext };
  };
  readonly assertRunning: (operation: string) => void;
  readonly licensing: SupervisorLicensing;
}

/**
 * The supervisor's operations on single nodes: views, registration with admission, and the
 * operator's isolate and reinstate. Every input is checked before anything changes.
 */
export function nodeOperations(deps: NodeOperationsDeps) {
  const { config, store, outputs, governance, book, actor, assertRunning, licensing } = deps;
  const { clock } = config;
  // The registry is one Map for the actor's lifetime, so it can be read without a snapshot.
  const nodeActors = actor.getSnapshot().context.nodes;

  function view(nodeId: string): NodeSnapshot | undefined {
    const record = store.get(nodeId);
    return record?.attached === undefined
      ? undefined
      : nodeSnapshot(store.columns, record, record.attached, book.reader(clock.now()));
  }

  function existing(nodeId: unknown, operation: string): NodeSnapshot {
    assertRunning(operation);
    if (typeof nodeId !== 'string') {
      throw new InvalidArgumentError('nodeId', `expected a string, got ${typeof nodeId}`);
    }
    const node = view(nodeId);
    if (node === undefined) throw new UnknownNodeError(nodeId);
    return node;
  }

  // Isolating an isolated node, or reinstating one that is not isolated, changes nothing.
  function operatorCommand(
    nodeId: unknown,
    type: 'ISOLATE' | 'REINSTATE',
    reason: unknown,
    ruleId?: string,
  ): NodeSnapshot {
    const node = existing(nodeId, type === 'ISOLATE' ? 'isolate a node' : 'reinstate a node');
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 1024) {
      throw new InvalidArgumentError('reason', 'expected a string of 1 to 1024 characters');
    }
    if ((node.state === 'isolated') === (type === 'ISOLATE')) return node;
    const at = clock.now();
    const event: NodeLifecycleEvent = { type, at, reason };
    const action: ActionProposal['action'] = {
      type: type === 'ISOLATE' ? 'isolate' : 'reinstate',
      nodeId: node.id,
      reason,
      tick: actor.getSnapshot().context.tick,
      at,
      ...(ruleId === undefined ? {} : { ruleId }),
    };
    actor.send({ type: 'OPERATOR.COMMAND', command: { nodeId: node.id, event }, action });
    return view(node.id) as NodeSnapshot;
  }

  // All or nothing: every registration is checked before any is applied.
  function registerAll(inputs: readonly unknown[], batch: boolean): string[] {
    assertRunning('register a node');
    const registrations: NodeRegistration[] = inputs.map((input, index) =>
      parseRegistration(input, batch ? `/${index}` : ''),
    );
    store.assertAvailable(registrations);
    if (config.maxNodes !== undefined && store.size + registrations.length > config.maxNodes) {
      throw new FleetFullError(config.maxNodes, store.size, registrations.length);
    }
    const registeredAt = clock.now();
    // Licences first: a node without a right to run is refused before any rule looks at it.
    const licences = licensing.admit(registrations, registeredAt);
    const tick = actor.getSnapshot().context.tick;
    const failed = admissionFailures(governance, registrations, registeredAt, tick, store.size);
    const decide = (nodeId: string, admitted: boolean) => {
      const failures = (failed.get(nodeId) ?? []).map(({ ruleId, message }) => ({
        ruleId,
        message,
      }));
      const isolated = admitted && failures.length > 0;
      outputs.admission({ nodeId, admitted, isolated, failures, at: registeredAt });
    };
    if (failed.size > 0 && config.admission === 'refuse') {
      for (const nodeId of failed.keys()) decide(nodeId, false);
      throw new AdmissionDeniedError([...failed.values()].flat());
    }

    const records = registrations.map((registration) => store.add(registration, registeredAt));
    const nodeIds = registrations.map((r) => r.id);
    actor.send({
      type: 'NODES.REGISTER',
      nodes: nodeIds.map((nodeId) => ({ nodeId, registeredAt })),
    });
    // Each record points at its actor, so a tick reads both without a lookup per node.
    for (const record of records) record.attached = nodeActors.get(record.id);
    for (const [nodeId, { licence, token }] of licences ?? []) {
      licensing.book?.attach(nodeId, licence, token);
      licensing.emit({ type: 'admitted', at: registeredAt, nodeId, licenceId: licence.id });
    }
    outputs.registered(nodeIds);
    for (const nodeId of nodeIds) decide(nodeId, true);
    for (const [nodeId, failures] of failed) {
      const first = failures[0] as { ruleId: string; message: string };
      operatorCommand(
        nodeId,
        'ISOLATE',
        `admission: rule ${first.ruleId} failed: ${first.message}`,
        first.ruleId,
      );
    }
    return nodeIds;
  }

  return { view, existing, operatorCommand, registerAll };
}
