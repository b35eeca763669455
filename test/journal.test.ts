import { describe, expect, it } from 'vitest';
import {
  type AuditLog,
  createSupervisor,
  type DurableState,
  MemoryAuditLog,
  type StateStore,
} from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import { silentLogger } from './helpers.js';

/** A state store whose saves settle only when the test says so, as a NATS round trip does. */
class SlowStore implements StateStore {
  readonly saves: DurableState[] = [];
  private settle: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  load(): undefined {
    return undefined;
  }

  save(state: DurableState): Promise<void> {
    this.saves.push(state);
    return new Promise((resolve, reject) => this.settle.push({ resolve, reject }));
  }

  resolveAll(): void {
    for (const { resolve } of this.settle.splice(0)) resolve();
  }

  rejectAll(): void {
    for (const { reject } of this.settle.splice(0)) reject(new Error('NATS away'));
  }
}

const settled = async (promise: Promise<void>) => {
  let state = 'pending';
  promise.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  // Two turns: enough for already settled promises to report.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

describe('journal', () => {
  function setup() {
    const store = new SlowStore();
    const clock = new SimulatedClock();
    // An audit log whose flushes land at once, but asynchronously, as a stream's acks do.
    const memory = new MemoryAuditLog();
    const auditLog: AuditLog = {
      append: (record) => memory.append(record),
      flush: () => Promise.resolve(memory.flush()),
      read: () => memory.read(),
      close: () => memory.close(),
    };
    const sup = createSupervisor({
      stateStore: store,
      auditLog,
      clock,
      logger: silentLogger,
    });
    sup.register({ id: 'n-1' });
    store.resolveAll();
    sup.start();
    return { store, sup };
  }

  it('says an operator command is durable only once its asynchronous save has landed', async () => {
    const { store, sup } = setup();
    sup.isolate('n-1', 'test');
    const durable = sup.durable();
    expect(await settled(durable)).toBe('pending');
    // Ticks that change nothing only flush the log: they must not hide the save in flight.
    sup.tick();
    sup.tick();
    expect(store.saves.at(-1)?.nodes[0]?.state).toBe('isolated');
    expect(await settled(sup.durable())).toBe('pending');
    store.resolveAll();
    expect(await settled(durable)).toBe('resolved');
    expect(await settled(sup.durable())).toBe('resolved');
    const stopping = sup.stop();
    store.resolveAll(); // the last save, of stop()
    await stopping;
  });

  it('reports a failed save through durable() and saves the whole state again at the next commit', async () => {
    const { store, sup } = setup();
    sup.isolate('n-1', 'test');
    const saves = store.saves.length;
    store.rejectAll();
    expect(await settled(sup.durable())).toBe('rejected');
    sup.tick();
    expect(store.saves.length).toBe(saves + 1);
    expect(store.saves.at(-1)?.nodes[0]?.state).toBe('isolated');
    store.resolveAll();
    expect(await settled(sup.durable())).toBe('resolved');
    const stopping = sup.stop();
    store.resolveAll(); // the last save, of stop()
    await stopping;
  });
});
