import { describe, expect, it } from 'vitest';
import {
  type AuditLog,
  createSupervisor,
  type DurableState,
  LeaseLostError,
  MemoryAuditLog,
  type StateStore,
} from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import { storageRetry } from '../src/supervisor/storage-health.js';
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

  // A save starts only once the audit flush before it has landed: let that happen first.
  async resolveAll(): Promise<void> {
    await turns();
    for (const { resolve } of this.settle.splice(0)) resolve();
  }

  settleAll() {
    return this.settle.splice(0);
  }

  async rejectAll(): Promise<void> {
    await turns();
    for (const { reject } of this.settle.splice(0)) reject(new Error('NATS away'));
  }
}

const turns = async () => {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
};

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
  async function setup() {
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
    await store.resolveAll();
    sup.start();
    return { store, sup, clock };
  }

  it('says an operator command is durable only once its asynchronous save has landed', async () => {
    const { store, sup } = await setup();
    sup.isolate('n-1', 'test');
    const durable = sup.durable();
    expect(await settled(durable)).toBe('pending');
    // Ticks that change nothing only flush the log: they must not hide the save in flight.
    sup.tick();
    sup.tick();
    expect(store.saves.at(-1)?.nodes[0]?.state).toBe('isolated');
    expect(await settled(sup.durable())).toBe('pending');
    await store.resolveAll();
    expect(await settled(durable)).toBe('resolved');
    expect(await settled(sup.durable())).toBe('resolved');
    const stopping = sup.stop();
    await store.resolveAll(); // the last save, of stop()
    await stopping;
  });

  it('reports a failed save through durable() and saves the whole state again once the retry is due', async () => {
    const { store, sup, clock } = await setup();
    sup.isolate('n-1', 'test');
    await turns();
    const saves = store.saves.length;
    await store.rejectAll();
    expect(await settled(sup.durable())).toBe('rejected');
    expect(sup.storage().degraded).toBe(true);
    // Degraded: ticks write nothing until the backoff has passed, then save everything.
    sup.tick();
    await turns();
    expect(store.saves.length).toBe(saves);
    clock.increment(storageRetry.baseMs);
    await turns();
    expect(store.saves.length).toBe(saves + 1);
    expect(store.saves.at(-1)?.nodes[0]?.state).toBe('isolated');
    await store.resolveAll();
    expect(await settled(sup.durable())).toBe('resolved');
    expect(sup.storage().degraded).toBe(false);
    const stopping = sup.stop();
    await store.resolveAll(); // the last save, of stop()
    await stopping;
  });

  it('takes a fenced write (a shard lost) for the distributed mode letting go, not for a storage fault', async () => {
    const { store, sup } = await setup();
    sup.isolate('n-1', 'test');
    await turns();
    const saves = store.saves.length;
    for (const { reject } of store.settleAll()) reject(new LeaseLostError(3, 'taken over'));
    expect(await settled(sup.durable())).toBe('rejected');
    expect(sup.storage().degraded).toBe(false);
    sup.pin('n-1');
    await turns();
    expect(store.saves.length).toBe(saves + 1);
    await store.resolveAll();
    const stopping = sup.stop();
    await store.resolveAll();
    await stopping;
  });

  describe('writes the audit log before the state that depends on it', () => {
    // A log that knows what is not yet durable, and a store that checks it at every save: a
    // save while records are still buffered or in flight is a state ahead of its audit log.
    function recording(asynchronous: boolean) {
      const memory = new MemoryAuditLog();
      let buffered = 0;
      const inFlight: Array<() => void> = [];
      const violations: string[] = [];
      const auditLog: AuditLog = {
        append: (record) => {
          buffered++;
          return memory.append(record);
        },
        flush: () => {
          buffered = 0;
          if (!asynchronous) return memory.flush();
          return new Promise<void>((resolve) => {
            inFlight.push(() => {
              memory.flush();
              resolve();
            });
          });
        },
        read: () => memory.read(),
        close: () => memory.close(),
      };
      const stateStore: StateStore = {
        load: () => undefined,
        save: (state) => {
          if (buffered > 0 || inFlight.length > 0) {
            violations.push(
              `state with ${state.nodes.map((n) => `${n.id}:${n.state}`).join(',')} saved while ${buffered} audit records were buffered and ${inFlight.length} flushes in flight`,
            );
          }
          return asynchronous ? Promise.resolve() : undefined;
        },
      };
      const land = async () => {
        for (const done of inFlight.splice(0)) done();
        await turns();
      };
      return { auditLog, stateStore, violations, land };
    }

    for (const asynchronous of [false, true]) {
      it(`with ${asynchronous ? 'asynchronous' : 'synchronous'} stores`, async () => {
        const { auditLog, stateStore, violations, land } = recording(asynchronous);
        const clock = new SimulatedClock();
        const sup = createSupervisor({
          stateStore,
          auditLog,
          clock,
          heartbeatTimeoutMs: 3000,
          logger: silentLogger,
        });
        sup.register({ id: 'n-1' });
        sup.register({ id: 'n-2' });
        await land();
        sup.start();
        sup.isolate('n-1', 'test');
        await land();
        sup.protect('n-2');
        await land();
        // Silence: n-2 goes offline in a tick, a transition the state and the log both hold.
        for (let i = 0; i < 5; i++) {
          clock.increment(1000);
          await land();
        }
        expect(sup.node('n-2')?.state).toBe('offline');
        sup.reinstate('n-1', 'test');
        await land();
        const stopping = sup.stop();
        await land();
        await stopping;
        expect(violations).toEqual([]);
        expect(auditLog.read()).not.toHaveLength(0);
      });
    }
  });
});
