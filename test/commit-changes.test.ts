import { describe, expect, it } from 'vitest';
import { createSupervisor, type DurableNode, type DurableState, MemoryStateStore } from 'wyneos';
import { advanceClock, SimulatedClock } from 'wyneos/testing';
import { createShardHost } from '../src/supervisor/create-supervisor.js';
import { silentLogger } from './helpers.js';

const tickMs = 1000;
const timeoutMs = 3000;

/** A store that saves changes (as NATS KV does) and remembers what each save was handed. */
class ChangesStore extends MemoryStateStore {
  readonly wholes: DurableState[] = [];
  readonly changes: Array<{ ids: string[]; present: string[] }> = [];
  override save(state: DurableState): void {
    this.wholes.push(state);
    super.save(state);
  }
  saveChanges(state: DurableState, nodes: ReadonlySet<string>): void {
    this.changes.push({ ids: [...nodes].sort(), present: state.nodes.map((n) => n.id).sort() });
  }
  /** What was saved since the last call. */
  take() {
    const taken = { wholes: this.wholes.length, changes: this.changes.splice(0) };
    this.wholes.length = 0;
    return taken;
  }
}

function boot() {
  const store = new ChangesStore();
  const clock = new SimulatedClock();
  const sup = createSupervisor({
    logger: silentLogger,
    clock,
    tickMs,
    heartbeatTimeoutMs: timeoutMs,
    stateStore: store,
  });
  sup.start();
  store.take(); // the start's whole save
  return { sup, store, advance: (ms: number) => advanceClock(clock, ms, tickMs) };
}

const ids = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `n-${String(from + i).padStart(3, '0')}`);

describe('commits proportional to what changed', () => {
  it('hands a store that saves changes only the registered batch, never the whole fleet', () => {
    const { sup, store } = boot();
    sup.registerMany(ids(0, 100).map((id) => ({ id })));
    expect(store.take()).toEqual({
      wholes: 0,
      changes: [{ ids: ids(0, 100), present: ids(0, 100) }],
    });
    sup.registerMany(ids(100, 5).map((id) => ({ id })));
    expect(store.take()).toEqual({
      wholes: 0,
      changes: [{ ids: ids(100, 5), present: ids(100, 5) }],
    });
    sup.register({ id: 'n-999' });
    expect(store.take()).toEqual({ wholes: 0, changes: [{ ids: ['n-999'], present: ['n-999'] }] });
  });

  it('hands it only the node a tick changed, and nothing for a tick that changed none', () => {
    const { sup, store, advance } = boot();
    const fleet = ids(0, 50);
    sup.registerMany(fleet.map((id) => ({ id })));
    let seq = 0;
    const beat = (except: string[] = []) => {
      seq++;
      for (const id of fleet)
        if (!except.includes(id)) sup.heartbeat({ nodeId: id, seq, load: 0.2 });
    };
    beat();
    advance(tickMs);
    store.take();
    beat();
    advance(tickMs);
    expect(store.take()).toEqual({ wholes: 0, changes: [] });
    // n-007 falls silent: the tick that declares it offline saves it alone.
    for (let i = 0; i < 5; i++) {
      beat(['n-007']);
      advance(tickMs);
    }
    expect(sup.node('n-007')?.state).toBe('offline');
    expect(store.take()).toEqual({ wholes: 0, changes: [{ ids: ['n-007'], present: ['n-007'] }] });
  });

  it('hands it the node an operator command or a new agent incarnation changed, and a deregistered one as gone', () => {
    const { sup, store } = boot();
    sup.registerMany(ids(0, 20).map((id) => ({ id })));
    store.take();
    sup.isolate('n-003', 'test');
    expect(store.take()).toEqual({ wholes: 0, changes: [{ ids: ['n-003'], present: ['n-003'] }] });
    sup.deregister('n-004');
    expect(store.take()).toEqual({ wholes: 0, changes: [{ ids: ['n-004'], present: [] }] });
    sup.heartbeat({ nodeId: 'n-005', seq: 1, load: 0.2, epoch: 7 });
    sup.tick();
    expect(store.take()).toEqual({ wholes: 0, changes: [{ ids: ['n-005'], present: ['n-005'] }] });
    // An override is no node's lifecycle: saved whole, as the policy and exemptions are.
    sup.protect('n-006');
    expect(store.take().wholes).toBe(1);
  });

  it('saves a node adopted with a shard that it already had, since the store may hold it otherwise', () => {
    const store = new ChangesStore();
    const host = createShardHost({
      logger: silentLogger,
      clock: new SimulatedClock(),
      stateStore: store,
    });
    host.start();
    host.registerMany([{ id: 'a' }, { id: 'b' }]);
    store.take();
    const saved = (id: string): DurableNode => ({
      id,
      labels: {},
      registeredAt: 0,
      state: 'online',
      since: 0,
      reason: 'registered',
      isolations: 0,
      reinstateAt: null,
      probationUntil: null,
      escalation: 0,
      seq: -1,
    });
    expect(host.adopt([saved('a'), saved('c')], { protected: [], pinned: [] })).toBe(1);
    host.tick();
    expect(store.take()).toEqual({ wholes: 0, changes: [{ ids: ['a'], present: ['a'] }] });
  });
});
