import { describe, expect, it } from 'vitest';
import { defineRule, type NodeTransition, type TickSummary } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import { type AnyActorRef, type AnyStateMachine, transition } from 'xstate';
import {
  governanceReported,
  healingPlanned,
  reviewDone,
  snapshotTaken,
} from '../machines/events.js';
import { createShardHost } from '../src/supervisor/create-supervisor.js';
import { collect, silentLogger } from './helpers.js';

// XState computes a machine's assigns while it resolves a transition, and its pure
// `transition()` resolves without running anything else: a machine whose assigns did work
// (read the clock, evaluate rules, review proposals, emit) would do that work again each time
// a tool or a test resolved it. The supervisor machine's assigns only store what its steps
// answered; the steps and the emits run only in a live actor.

describe('the supervisor machine under XState’s pure transition()', () => {
  it('repeats no side effect, however often a whole tick is resolved', async () => {
    const clock = new SimulatedClock();
    let reads = 0;
    const countingClock = {
      now: () => {
        reads++;
        return clock.now();
      },
      setTimeout: clock.setTimeout.bind(clock),
      clearTimeout: clock.clearTimeout.bind(clock),
    };
    const never = defineRule({
      id: 'never',
      description: 'never holds',
      enforcement: 'isolate',
      evaluate: () => false,
    });
    let machine: AnyStateMachine | undefined;
    let actor: AnyActorRef | undefined;
    const sup = createShardHost(
      { logger: silentLogger, clock: countingClock, rules: [never] },
      {
        expose: (m, a) => {
          machine = m;
          actor = a;
        },
      },
    );
    const ticks = collect<TickSummary>(sup.ticks$);
    const transitions = collect<NodeTransition>(sup.transitions$);
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    sup.start();
    const provided = machine as AnyStateMachine;
    const waiting = (actor as AnyActorRef).getSnapshot();
    // sup.nodes() reads the clock itself: the count to keep is the one after it.
    const nodesBefore = JSON.stringify(sup.nodes());
    const baseline = reads;

    const snapshot = { tick: 1, at: 0, nodes: [] };
    const plan = { tick: 1, commands: [], proposals: [] };
    const decision = {
      report: {
        runId: 'tick-1',
        tick: 1,
        at: 0,
        policyVersion: 'v',
        nodeCount: 0,
        rules: [],
        fleetCompliance: 1,
        nodeCompliance: {},
        results: [],
        changes: { newlyFailing: [], resolved: [] },
      },
      proposals: [],
    };
    for (let round = 0; round < 3; round++) {
      const steps = [
        { type: 'TICK' },
        snapshotTaken(snapshot),
        healingPlanned(plan),
        governanceReported(decision),
        reviewDone({ approved: [], held: [], degraded: [] }),
      ];
      const states = ['snapshotting', 'healing', 'governing', 'reviewing', 'applying'];
      let state = waiting;
      for (const [i, event] of steps.entries()) {
        [state] = transition(provided, state, event);
        expect(state.value).toEqual({ running: states[i] });
      }
      expect(state.context.review).toEqual({ approved: [], held: [], degraded: [] });
    }
    expect(reads).toBe(baseline);
    expect(ticks).toEqual([]);
    expect(transitions).toEqual([]);
    expect(JSON.stringify(sup.nodes())).toBe(nodesBefore);

    // The live tick, once, does the work once: the rule isolates one node (the cap allows one).
    sup.tick();
    expect(ticks).toHaveLength(1);
    expect(transitions.map((t) => t.to)).toEqual(['isolated']);
    await sup.stop();
  });
});
