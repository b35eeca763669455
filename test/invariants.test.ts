import { describe, expect, it } from 'vitest';
import type { ActionRecord, NodeState, NodeTransition, TickSummary } from 'wyneos';
import { type InvariantContext, invariants, type Violation } from 'wyneos/testing';

// A hand-driven context: the test says what each node's state and last heartbeat are.
function harness(invariant: (typeof invariants)[keyof typeof invariants]) {
  const states = new Map<string, NodeState>();
  const lastAccepted = new Map<string, number>();
  let pausedUntil = Number.NEGATIVE_INFINITY;
  const context: InvariantContext = {
    tickMs: 1000,
    heartbeatTimeoutMs: 3000,
    detector: 'timeout',
    maxIsolatedFraction: 0.3,
    nodeIds: () => states.keys(),
    stateOf: (id) => states.get(id),
    lastAcceptedAt: (id) => lastAccepted.get(id),
    pausedUntil: () => pausedUntil,
  };
  const violations: Violation[] = [];
  const monitor = invariant.monitor(context, (v) => violations.push(v));
  return {
    states,
    lastAccepted,
    monitor,
    violations,
    pause: (until: number) => {
      pausedUntil = until;
    },
  };
}

const transition = (
  nodeId: string,
  from: NodeState,
  to: NodeState,
  at: number,
): NodeTransition => ({
  nodeId,
  from,
  to,
  at,
  reason: 'test',
  tick: at / 1000,
});

let actionCount = 0;
const action = (
  fields: Partial<ActionRecord> & Pick<ActionRecord, 'type' | 'nodeId'>,
): ActionRecord => ({
  id: `action-${++actionCount}`,
  status: 'applied',
  origin: 'healing',
  reason: 'test',
  tick: 1,
  at: 1000,
  ...fields,
});

const summary = (at: number, nodeCount: number, isolated: number): TickSummary => ({
  tick: at / 1000,
  at,
  durationMs: 0,
  nodeCount,
  states: { online: nodeCount - isolated, overloaded: 0, isolated, offline: 0 },
  transitions: 0,
  actions: 0,
  held: 0,
  degraded: [],
  eventLoopLagMs: undefined,
  fleetCompliance: 1,
  violations: 0,
});

describe('invariants', () => {
  it('isolation-cap: flags an automatic isolation that leaves the fleet over the cap, not an operator one', () => {
    const h = harness(invariants.isolationCap);
    h.monitor.action?.(action({ type: 'isolate', nodeId: 'a', origin: 'operator' }));
    h.monitor.tick?.(summary(1000, 10, 4));
    expect(h.violations).toEqual([]);
    h.monitor.action?.(action({ type: 'isolate', nodeId: 'b' }));
    h.monitor.tick?.(summary(2000, 10, 3));
    expect(h.violations).toEqual([]);
    h.monitor.action?.(action({ type: 'isolate', nodeId: 'c' }));
    h.monitor.tick?.(summary(3000, 10, 4));
    expect(h.violations).toHaveLength(1);
    expect(h.violations[0]?.message).toMatch(/4 of 10 nodes isolated .* over the cap of 3/);
  });

  it('isolated-leaves-only-by-reinstatement: needs a reinstate action for every exit, and online as the destination', () => {
    const h = harness(invariants.leavesIsolationOnlyByReinstatement);
    h.monitor.transition?.(transition('a', 'isolated', 'online', 1000));
    h.monitor.action?.(action({ type: 'reinstate', nodeId: 'a' }));
    h.monitor.tick?.(summary(1000, 2, 0));
    expect(h.violations).toEqual([]);
    h.monitor.transition?.(transition('a', 'isolated', 'online', 2000));
    h.monitor.tick?.(summary(2000, 2, 0));
    expect(h.violations.map((v) => v.message)).toEqual([
      'left isolation without a reinstate action: test',
    ]);
    h.monitor.transition?.(transition('b', 'isolated', 'offline', 3000));
    expect(h.violations.at(-1)?.message).toMatch(/from isolated to offline/);
  });

  it('offline-within-timeout-plus-tick: flags a node still online past the bound, once per silence', () => {
    const h = harness(invariants.offlineWithinBound);
    h.states.set('a', 'online');
    h.lastAccepted.set('a', 1000);
    h.monitor.tick?.(summary(5000, 1, 0)); // silent 4000 ms: exactly the bound
    expect(h.violations).toEqual([]);
    h.monitor.tick?.(summary(6000, 1, 0));
    h.monitor.tick?.(summary(7000, 1, 0));
    expect(h.violations).toHaveLength(1);
    h.states.set('a', 'offline');
    h.monitor.tick?.(summary(8000, 1, 0));
    expect(h.violations).toHaveLength(1);
  });

  it('offline-within-timeout-plus-tick: counts silence from one tick before a pause of the supervisor ended', () => {
    const h = harness(invariants.offlineWithinBound);
    h.states.set('a', 'online');
    h.lastAccepted.set('a', 1000);
    h.pause(10_000);
    h.monitor.tick?.(summary(10_000, 1, 0));
    h.monitor.tick?.(summary(13_000, 1, 0));
    expect(h.violations).toEqual([]);
    h.monitor.tick?.(summary(14_000, 1, 0));
    expect(h.violations[0]?.message).toBe('still online after 5000 ms of silence (bound 4000 ms)');
  });

  it('healthy-never-offline: flags offline declared before the timeout', () => {
    const h = harness(invariants.healthyNeverOffline);
    h.lastAccepted.set('a', 1000);
    h.monitor.transition?.(transition('a', 'online', 'offline', 4000));
    expect(h.violations).toEqual([]);
    h.monitor.transition?.(transition('a', 'online', 'offline', 3500));
    expect(h.violations[0]?.message).toBe('declared offline after only 2500 ms of silence');
  });

  it('revived-only-by-heartbeat: flags an offline node brought back with no heartbeat since', () => {
    const h = harness(invariants.revivedOnlyByHeartbeat);
    h.lastAccepted.set('a', 1000);
    h.monitor.transition?.(transition('a', 'online', 'offline', 5000));
    h.monitor.transition?.(transition('a', 'offline', 'online', 7000));
    expect(h.violations[0]?.message).toMatch(
      /^went from offline to online with no heartbeat since 5000/,
    );
    h.monitor.transition?.(transition('a', 'online', 'offline', 9000));
    h.lastAccepted.set('a', 9500);
    h.monitor.transition?.(transition('a', 'offline', 'online', 10_000));
    expect(h.violations).toHaveLength(1);
  });

  it('no-duplicate-action: one isolation per isolated spell, one reduce-load per overload, one per rule streak', () => {
    const h = harness(invariants.noDuplicateAction);
    h.monitor.action?.(action({ type: 'isolate', nodeId: 'a' }));
    h.monitor.action?.(action({ type: 'isolate', nodeId: 'a', origin: 'governance', ruleId: 'r' }));
    expect(h.violations).toHaveLength(1);
    h.monitor.transition?.(transition('a', 'isolated', 'online', 2000));
    h.monitor.action?.(action({ type: 'isolate', nodeId: 'a', tick: 2 }));
    expect(h.violations).toHaveLength(1);

    h.monitor.action?.(action({ type: 'reduce-load', nodeId: 'b' }));
    h.monitor.transition?.(transition('b', 'overloaded', 'online', 3000));
    h.monitor.action?.(action({ type: 'reduce-load', nodeId: 'b', tick: 3 }));
    expect(h.violations).toHaveLength(1);

    const warn = action({ type: 'warn', nodeId: 'c', origin: 'governance', ruleId: 'r' });
    h.monitor.action?.(warn);
    h.monitor.action?.({ ...warn, status: 'proposed' }); // only applied steps count
    h.monitor.report?.({
      changes: { newlyFailing: [], resolved: [{ ruleId: 'r', nodeId: 'c' }] },
    } as never);
    h.monitor.action?.({ ...warn, tick: 4 });
    expect(h.violations).toHaveLength(1);
    h.monitor.action?.({ ...warn, tick: 5 });
    expect(h.violations).toHaveLength(2);
  });
});
