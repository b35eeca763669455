import { describe, expect, it } from 'vitest';
import {
  governanceMachine,
  healingMachine,
  type NodeLifecycleEvent,
  nodeMachine,
  serializeNodeState,
  supervisorMachine,
} from 'wyneos';
import { type AnyStateMachine, assign, createActor, setup } from 'xstate';
import { createTestModel, getShortestPaths, getSimplePaths } from 'xstate/graph';

// XState's graph tools on the machines the package exports, called as a user would: each
// machine alone, with no parent and the implementations it ships with.

const nodeEvents: NodeLifecycleEvent[] = (
  ['OVERLOADED', 'RECOVERED', 'WENT_OFFLINE', 'CAME_BACK', 'ISOLATE', 'REINSTATE'] as const
).map((type) => ({ type, at: 1000, reason: 'graph' }));
const fleetSnapshot = { tick: 1, at: 1000, nodes: [] };

/** The states a path ends in, as strings (`running.waiting`). */
function reached(paths: ReadonlyArray<{ state: { value: unknown } }>): string[] {
  const names = (value: unknown): string =>
    typeof value === 'string'
      ? value
      : Object.entries(value as Record<string, unknown>)
          .map(([parent, child]) => `${parent}.${names(child)}`)
          .join();
  return [...new Set(paths.map((path) => names(path.state.value)))].sort();
}

const machines = [
  {
    name: 'nodeMachine',
    machine: nodeMachine as AnyStateMachine,
    options: {
      input: { nodeId: 'n1', registeredAt: 0 },
      events: nodeEvents,
      serializeState: serializeNodeState as (s: unknown) => string,
    },
    states: ['isolated', 'offline', 'online', 'overloaded'],
  },
  {
    name: 'healingMachine',
    machine: healingMachine as AnyStateMachine,
    options: { events: [{ type: 'EVALUATE', snapshot: fleetSnapshot }] },
    states: ['ready'],
  },
  {
    name: 'governanceMachine',
    machine: governanceMachine as AnyStateMachine,
    options: { events: [{ type: 'EVALUATE', snapshot: fleetSnapshot }] },
    states: ['ready'],
  },
  {
    name: 'supervisorMachine',
    machine: supervisorMachine as AnyStateMachine,
    options: {
      input: { tickMs: 1000 },
      events: [{ type: 'START' }, { type: 'TICK' }, { type: 'STOP' }],
    },
    states: ['idle', 'running.snapshotting', 'running.waiting', 'stopped'],
    // XState's createTestModel refuses any machine that invokes actors, by design; the
    // supervisor invokes its tick's steps. The path functions above work on it.
    testModel: 'Invocations on test machines are not supported',
  },
];

describe('xstate tooling', () => {
  for (const { name, machine, options, states, testModel } of machines) {
    it(`getShortestPaths and getSimplePaths reach every state of ${name}`, () => {
      // biome-ignore lint/suspicious/noExplicitAny: each machine has its own event and input types
      const opts = options as any;
      expect(reached(getShortestPaths(machine, opts))).toEqual(states);
      expect(reached(getSimplePaths(machine, opts))).toEqual(states);
    });

    const modelled =
      testModel === undefined
        ? 'terminates and gives a path to every state'
        : 'is refused as XState refuses every machine that invokes actors';
    it(`createTestModel on ${name} ${modelled}`, () => {
      // biome-ignore lint/suspicious/noExplicitAny: see above
      const create = () => createTestModel(machine, options as any);
      if (testModel !== undefined) {
        expect(create).toThrow(testModel);
        return;
      }
      const model = create();
      expect(reached(model.getShortestPaths({ allowDuplicatePaths: true }))).toEqual(states);
      expect(reached(model.getSimplePaths({ allowDuplicatePaths: true }))).toEqual(states);
    });
  }

  it('tests a node actor with no parent along every path of its model', async () => {
    const model = createTestModel(nodeMachine, {
      input: { nodeId: 'n1', registeredAt: 0 },
      events: nodeEvents,
      serializeState: serializeNodeState,
    });
    const paths = model.getSimplePaths({ allowDuplicatePaths: true });
    expect(reached(paths)).toEqual(['isolated', 'offline', 'online', 'overloaded']);
    for (const path of paths) {
      // The system under test: the exported machine as it is, run alone.
      const actor = createActor(nodeMachine, { input: { nodeId: 'n1', registeredAt: 0 } });
      const errors: unknown[] = [];
      actor.subscribe({ error: (error) => errors.push(error) });
      actor.start();
      const send = ({ event }: { event: NodeLifecycleEvent }) => actor.send(event);
      const inState = (value: string) => () => expect(actor.getSnapshot().value).toBe(value);
      await path.test({
        events: Object.fromEntries(nodeEvents.map(({ type }) => [type, send])),
        states: Object.fromEntries(
          ['online', 'overloaded', 'offline', 'isolated'].map((value) => [value, inState(value)]),
        ),
      });
      expect(errors).toEqual([]);
      expect(actor.getSnapshot().status).toBe('active');
      actor.stop();
    }
  });

  it('still tells its parent: a node invoked by a machine sends it NODE.TRANSITIONED', () => {
    const parent = setup({ actors: { node: nodeMachine } }).createMachine({
      context: { heard: [] as string[] },
      invoke: { id: 'node', src: 'node', input: { nodeId: 'n1', registeredAt: 0 } },
      on: {
        'NODE.TRANSITIONED': {
          actions: assign({
            heard: ({ context, event }) => [...context.heard, `${event.from}->${event.to}`],
          }),
        },
      },
    });
    const actor = createActor(parent).start();
    actor.getSnapshot().children.node?.send({ type: 'ISOLATE', at: 5, reason: 'told' });
    expect(actor.getSnapshot().context.heard).toEqual(['online->isolated']);
  });
});
