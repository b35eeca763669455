import type { Clock } from '../clock.js';
import { InvalidNodeError } from '../errors.js';
import type { TraceRecorder } from '../replay/recorder.js';
import type { NodeSnapshot } from '../types.js';
import type { Journal } from './journal.js';
import type { NodeBook } from './node-book.js';
import type { nodeOperations } from './node-operations.js';
import type { SupervisorOutputs } from './outputs.js';
import type { Supervisor } from './types.js';

/**
 * The commands that change who is in the fleet and how an operator holds a node: register,
 * deregister, isolate, reinstate. Each is durable before it returns (`durably`, saving only the
 * nodes it changed), then recorded in the trace when one is kept.
 */
export function nodeCommands(parts: {
  readonly operations: ReturnType<typeof nodeOperations>;
  readonly nodes: NodeBook;
  readonly outputs: SupervisorOutputs;
  readonly journal: Journal;
  readonly clock: Clock;
  readonly durably: <T>(operation: string, run: () => T, nodesOnly?: boolean) => T;
  readonly recorder: TraceRecorder | undefined;
}): Pick<Supervisor, 'register' | 'registerMany' | 'deregister' | 'isolate' | 'reinstate'> {
  const { operations, nodes, outputs, journal, clock, durably, recorder } = parts;
  const { view, existing, operatorCommand, registerAll } = operations;
  return {
    register(node) {
      const [nodeId] = durably('register a node', () => registerAll([node], false), true);
      recorder?.register([node], clock.now());
      return view(nodeId as string) as NodeSnapshot;
    },

    registerMany(registrations) {
      if (!Array.isArray(registrations)) {
        throw new InvalidNodeError('', 'registerMany expects an array of registrations');
      }
      durably('register nodes', () => registerAll(registrations, true), true);
      recorder?.register(registrations, clock.now());
    },

    deregister(nodeId) {
      const node = existing(nodeId, 'deregister a node');
      durably(
        'deregister a node',
        () => {
          // Everything kept per node goes: a node registered again under this id starts afresh
          // (found by the model test: it inherited rule and overload streaks).
          nodes.forget([node.id]);
          outputs.deregistered(node.id);
          journal.record('registration', node.id, { deregistered: true });
          journal.changed(node.id);
        },
        true,
      );
      recorder?.deregister(node.id, clock.now());
    },

    isolate(nodeId, reason = 'isolated by operator') {
      const command = () => operatorCommand(nodeId, 'ISOLATE', reason);
      const node = durably('isolate a node', command, true);
      recorder?.operator('isolate', node.id, reason, clock.now());
      return node;
    },

    reinstate(nodeId, reason = 'reinstated by operator') {
      const command = () => operatorCommand(nodeId, 'REINSTATE', reason);
      const node = durably('reinstate a node', command, true);
      recorder?.operator('reinstate', node.id, reason, clock.now());
      return node;
    },
  };
}
