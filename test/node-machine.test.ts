import { describe, expect, it } from 'vitest';
import { type NodeLifecycleEvent, type NodeTransition, nodeMachine } from 'wyneos';
import { getNextSnapshot } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { collect, simulatedSupervisor } from './helpers.js';

// The model is the node machine itself; the system under test is a whole supervisor, driven
// only through what a user can do (heartbeats, time, operator calls). Each model event maps
// to the way that event arises for real.
const model = createTestModel(
  // The model only needs the states and transitions; in the supervisor the real action runs.
  nodeMachine.provide({ actions: { notifySupervisor: () => {} } }),
  {
    input: { nodeId: 'node-1', registeredAt: 0 },
    // A node's identity in the model is its state alone: `isolations` counts up without end.
    serializeState: (state) => String(state.value),
    limit: 1000,
    events: (
      ['OVERLOADED', 'RECOVERED', 'WENT_OFFLINE', 'CAME_BACK', 'ISOLATE', 'REINSTATE'] as const
    ).map((type) => ({ type, at: 0, reason: 'model' })),
  },
);

/** Every (state, event) pair the node machine defines, read from the machine itself. */
function definedTransitions(): Set<string> {
  const edges = new Set<string>();
  for (const [state, node] of Object.entries(nodeMachine.root.states)) {
    for (const eventType of Object.keys(node.on)) edges.add(`${state} --${eventType}-->`);
  }
  return edges;
}

function fleetUnderTest() {
  const { sup, advance } = simulatedSupervisor({
    tickMs: 1000,
    heartbeatTimeoutMs: 3000,
    overload: { high: 0.9, low: 0.7, ticks: 3 },
  });
  const transitions = collect<NodeTransition>(sup.transitions$);
  sup.register({ id: 'node-1' });
  let seq = 0;
  const beatThenTick = (load: number) => {
    sup.heartbeat({ nodeId: 'node-1', seq: ++seq, load });
    advance(1000);
  };
  return { sup, advance, transitions, beatThenTick };
}

type Fleet = ReturnType<typeof fleetUnderTest>;

const howItHappens: Record<NodeLifecycleEvent['type'], (fleet: Fleet) => void> = {
  OVERLOADED: (f) => {
    for (let i = 0; i < 3; i++) f.beatThenTick(0.95);
  },
  RECOVERED: (f) => {
    for (let i = 0; i < 3; i++) f.beatThenTick(0.1);
  },
  WENT_OFFLINE: (f) => f.advance(3000),
  CAME_BACK: (f) => f.beatThenTick(0.1),
  ISOLATE: (f) => f.sup.isolate('node-1', 'model'),
  REINSTATE: (f) => f.sup.reinstate('node-1', 'model'),
};

/**
 * One path per defined transition: the shortest way to its source state, then its event. Simple
 * paths alone would miss transitions back into a state already visited (overloaded -> online).
 */
function transitionCoveringPaths() {
  const modelMachine = nodeMachine.provide({ actions: { notifySupervisor: () => {} } });
  return model.getShortestPaths().flatMap((toState) => {
    const events = toState.steps
      .map((step) => step.event)
      .filter((e) => !e.type.startsWith('xstate.'));
    const source = String(toState.state.value);
    const outgoing = Object.keys(modelMachine.root.states[source]?.on ?? {});
    return outgoing.flatMap((type) =>
      model.getPathsFromEvents([
        ...events,
        { type, at: 0, reason: 'model' } as (typeof events)[number],
      ]),
    );
  });
}

describe('node machine', () => {
  const paths = transitionCoveringPaths();

  it('has paths that cover every state and every defined transition', () => {
    const covered = new Set<string>();
    const states = new Set<string>();
    for (const path of paths) {
      for (const step of path.steps) states.add(String(step.state.value));
      let previous = 'online';
      for (const step of path.steps.slice(1)) {
        covered.add(`${previous} --${step.event.type}-->`);
        previous = String(step.state.value);
      }
    }
    expect(states).toEqual(new Set(['online', 'overloaded', 'isolated', 'offline']));
    expect(covered).toEqual(definedTransitions());
  });

  for (const path of paths) {
    it(`${path.description}, in a real supervisor`, async () => {
      const fleet = fleetUnderTest();
      await path.test({
        states: {
          '*': (state) => {
            const node = fleet.sup.node('node-1');
            expect(node?.state).toBe(state.value);
          },
        },
        events: Object.fromEntries(
          Object.entries(howItHappens).map(([type, exec]) => [
            type,
            () => {
              const before = fleet.sup.node('node-1')?.state;
              const emitted = fleet.transitions.length;
              exec(fleet);
              const last = fleet.transitions.at(-1);
              // Every step is exactly one reported transition, from where the node was.
              expect(fleet.transitions.length).toBe(emitted + 1);
              expect(last?.from).toBe(before);
              expect(last?.to).toBe(fleet.sup.node('node-1')?.state);
            },
          ]),
        ),
      });
      await fleet.sup.stop();
    });
  }

  it('leaves isolated only through REINSTATE', () => {
    const machine = nodeMachine.provide({ actions: { notifySupervisor: () => {} } });
    const isolated = machine.resolveState({
      value: 'isolated',
      context: {
        nodeId: 'n',
        since: 0,
        reason: 'x',
        isolations: 1,
        reinstateAt: null,
        probationUntil: null,
        escalation: 0,
      },
    });
    for (const type of [
      'OVERLOADED',
      'RECOVERED',
      'WENT_OFFLINE',
      'CAME_BACK',
      'ISOLATE',
    ] as const) {
      expect(getNextSnapshot(machine, isolated, { type, at: 1, reason: 'x' }).value).toBe(
        'isolated',
      );
    }
    expect(
      getNextSnapshot(machine, isolated, { type: 'REINSTATE', at: 1, reason: 'x' }).value,
    ).toBe('online');
  });

  it('records since, reason and the number of isolations', () => {
    const { sup, advance } = simulatedSupervisor();
    sup.register({ id: 'node-1' });
    advance(3000);
    expect(sup.node('node-1')).toMatchObject({ state: 'offline', since: 3000 });
    sup.isolate('node-1', 'maintenance');
    sup.reinstate('node-1');
    sup.isolate('node-1', 'again');
    expect(sup.node('node-1')).toMatchObject({ state: 'isolated', reason: 'again', isolations: 2 });
  });
});
