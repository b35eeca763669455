import { afterEach, describe, expect, it } from 'vitest';
import {
  type AuditLog,
  type AuditRecord,
  createSupervisor,
  type DurableState,
  FileStateStore,
  type FleetHealth,
  MemoryAuditLog,
  MemoryStateStore,
  type StateStore,
  StorageDegradedError,
  StorageError,
  type Supervisor,
  type TickSummary,
} from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import { storageRetry } from '../src/supervisor/storage-health.js';
import { type FullDisk, tinyDisk } from './full-disk.js';
import { captureLogger, collect, httpFleet } from './helpers.js';

/** A disk that fills up on command: the stores wrapped around it throw ENOSPC while it is full. */
function flakyDisk() {
  const disk = { full: false, attempts: [] as number[] };
  let clock: SimulatedClock | undefined;
  const fail = (file: string) => {
    disk.attempts.push(clock?.now() ?? 0);
    if (!disk.full) return;
    const cause = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
    });
    throw new StorageError(file, `Cannot write ${file}: ${cause.message}`, { cause });
  };
  const memoryStore = new MemoryStateStore();
  const memoryLog = new MemoryAuditLog();
  const stateStore: StateStore = {
    load: () => memoryStore.load(),
    save: (state: DurableState) => {
      fail('state.json');
      memoryStore.save(state);
    },
  };
  const auditLog: AuditLog = {
    append: (record) => memoryLog.append(record),
    flush: () => {
      fail('audit.jsonl');
      memoryLog.flush();
    },
    read: () => memoryLog.read(),
    close: () => memoryLog.close(),
  };
  return {
    disk,
    stateStore,
    auditLog,
    saved: () => memoryStore.load() as DurableState,
    records: () => memoryLog.read() as AuditRecord[],
    useClock: (c: SimulatedClock) => {
      clock = c;
    },
  };
}

function fleet() {
  const storage = flakyDisk();
  const clock = new SimulatedClock();
  storage.useClock(clock);
  const { logger, lines } = captureLogger('info');
  const sup = createSupervisor({
    stateStore: storage.stateStore,
    auditLog: storage.auditLog,
    clock,
    logger,
    tickMs: 1000,
    heartbeatTimeoutMs: 3000,
  });
  const ticks = collect<TickSummary>(sup.ticks$);
  const health = collect<FleetHealth>(sup.fleet$);
  for (const id of ['n-1', 'n-2', 'n-3']) sup.register({ id });
  sup.start();
  let seq = 0;
  // n-2 and n-3 beat every second; n-1 is silent.
  const second = () => {
    seq++;
    sup.heartbeat({ nodeId: 'n-2', seq, load: 0.2 });
    sup.heartbeat({ nodeId: 'n-3', seq, load: 0.2 });
    clock.increment(1000);
  };
  const storageLines = (msg: string) =>
    lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(msg));
  return { ...storage, sup, clock, ticks, health, second, storageLines };
}

/** Everything an operator can change, as it stands. */
function everything(sup: Supervisor) {
  return {
    nodes: sup.nodes().map(({ id, state, reason, labels }) => ({ id, state, reason, labels })),
    overrides: sup.overrides(),
    policy: sup.policy().version,
    exemptions: sup.exemptions(),
    revocations: sup.revocations(),
  };
}

function expectRefused(command: () => unknown) {
  let thrown: unknown;
  try {
    command();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(StorageDegradedError);
  expect((thrown as StorageDegradedError).code).toBe('WYNEOS_ERR_STORAGE_DEGRADED');
  expect((thrown as StorageDegradedError).applied).toBe(false);
  expect((thrown as StorageDegradedError).retryAfterMs).toBeGreaterThan(0);
}

describe('storage-degraded', () => {
  it('keeps ticking on a full disk, refuses every change without changing anything, and recovers by itself', () => {
    const f = fleet();
    f.second();
    f.disk.full = true;
    // n-1's silence makes it offline: a transition whose records cannot be written.
    for (let i = 0; i < 4; i++) expect(() => f.second()).not.toThrow();
    expect(f.sup.node('n-1')?.state).toBe('offline');
    expect(f.sup.storage()).toMatchObject({
      degraded: true,
      error: expect.stringMatching(/ENOSPC/),
    });
    expect(f.ticks.at(-1)?.degraded).toEqual(['storage']);
    expect(f.health.at(-1)).toMatchObject({ status: 'fleet-degraded', reasons: ['storage'] });

    const before = everything(f.sup);
    const { sup } = f;
    const policy = { ...sup.policy(), version: 'other' };
    const refused: Array<[string, () => unknown]> = [
      ['isolate', () => sup.isolate('n-2')],
      ['reinstate', () => sup.reinstate('n-1')],
      ['protect', () => sup.protect('n-2')],
      ['pin', () => sup.pin('n-2')],
      [
        'exempt',
        () => sup.exempt({ nodeId: 'n-2', ruleId: 'heartbeat-fresh', until: 1e15, reason: 'test' }),
      ],
      ['setPolicy', () => sup.setPolicy(policy)],
      ['register', () => sup.register({ id: 'n-9' })],
      ['registerMany', () => sup.registerMany([{ id: 'n-8' }])],
      ['deregister', () => sup.deregister('n-3')],
      ['revoke', () => sup.revoke('licence-1', 'test')],
    ];
    for (const [name, command] of refused) {
      expectRefused(command);
      expect(everything(sup), name).toEqual(before);
    }

    // Healing goes on meanwhile, with one error line for the whole episode, and retries back off.
    for (let i = 0; i < 40; i++) f.second();
    expect(f.storageLines('storage degraded')).toHaveLength(1);
    const failing = f.disk.attempts.slice(f.disk.attempts.indexOf(f.sup.storage().since as number));
    const gaps = failing.slice(1).map((at, i) => at - (failing[i] as number));
    expect(gaps.filter((gap) => gap > 0)).toEqual([1000, 2000, 4000, 8000, 16000]);

    f.disk.full = false;
    const retryAt = f.sup.storage().retryAt as number;
    while (f.clock.now() < retryAt) f.second();
    expect(f.sup.storage()).toMatchObject({ degraded: false, error: null });
    expect(f.storageLines('storage recovered')).toHaveLength(1);
    expect(f.ticks.at(-1)?.degraded).toEqual([]);
    expect(f.health.at(-1)).toMatchObject({ status: 'fleet-healthy' });
    // The whole state was saved, and every record held back while the disk was full is written.
    expect(f.saved().nodes.find((n) => n.id === 'n-1')?.state).toBe('offline');
    expect(
      f
        .records()
        .some((r) => r.type === 'transition' && r.nodeId === 'n-1' && r.data.to === 'offline'),
    ).toBe(true);
    expect(f.records().map((r) => r.seq)).toEqual(f.records().map((_, i) => i + 1));
    expect(f.records().filter((r) => r.type === 'operator')).toEqual([]);
    // Changes are accepted again.
    expect(f.sup.isolate('n-2', 'after').state).toBe('isolated');
    expect(f.saved().nodes.find((n) => n.id === 'n-2')?.state).toBe('isolated');
  });

  it('tells the operator whose own write failed that it is not durable, and saves it on recovery', () => {
    const f = fleet();
    f.second();
    f.disk.full = true;
    let thrown: unknown;
    try {
      f.sup.isolate('n-2', 'while the disk fills');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StorageDegradedError);
    expect((thrown as StorageDegradedError).applied).toBe(true);
    expect(f.saved().nodes.find((n) => n.id === 'n-2')?.state).toBe('online');
    f.disk.full = false;
    f.second();
    expect(f.sup.storage().degraded).toBe(false);
    expect(f.saved().nodes.find((n) => n.id === 'n-2')?.state).toBe('isolated');
  });
});

describe('storage-degraded over HTTP', () => {
  it('answers changes 503 with Retry-After, fails /readyz and shows it in the metrics until it recovers', async () => {
    const storage = flakyDisk();
    const f = await httpFleet({ stateStore: storage.stateStore, auditLog: storage.auditLog });
    storage.useClock(f.clock);
    await f.app.inject({
      method: 'POST',
      url: '/v1/nodes',
      headers: f.operator,
      payload: { id: 'n-1' },
    });
    f.advance(1000);
    expect((await f.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    storage.disk.full = true;
    const first = await f.app.inject({
      method: 'POST',
      url: '/v1/nodes/n-1/isolate',
      headers: f.operator,
      payload: { reason: 'test' },
    });
    expect(first.statusCode).toBe(503);
    expect(first.json().error.code).toBe('WYNEOS_ERR_STORAGE_DEGRADED');
    const second = await f.app.inject({
      method: 'POST',
      url: '/v1/nodes/n-1/protect',
      headers: f.operator,
      payload: {},
    });
    expect(second.statusCode).toBe(503);
    expect(second.json().error.code).toBe('WYNEOS_ERR_STORAGE_DEGRADED');
    expect(Number(second.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(f.sup.overrides().protected).toEqual([]);
    const ready = await f.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ reason: 'storage degraded', degraded: ['storage'] });
    const metrics = (await f.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^wyneos_storage_degraded 1$/m);
    expect(metrics).toMatch(/^wyneos_storage_write_failures_total [1-9]/m);

    storage.disk.full = false;
    f.advance(storageRetry.baseMs);
    expect((await f.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await f.app.inject({ url: '/metrics' })).body).toMatch(/^wyneos_storage_degraded 0$/m);
    await f.close();
  });
});

describe('storage-degraded on a device that is really full', () => {
  const disks: FullDisk[] = [];
  afterEach(() => {
    for (const disk of disks.splice(0)) disk.remove();
  });
  const mountable = tinyDisk();
  mountable?.remove();
  /**
   * Appends go on filling the last page a file already has after the disk is full: changes are
   * made until one meets the full disk (the first change refused is the one whose write failed).
   */
  const writeUntilFull = (sup: Supervisor) => {
    for (let i = 0; i < 500; i++) {
      try {
        sup.protect('n-1', i % 2 === 0);
      } catch (error) {
        expect(error).toBeInstanceOf(StorageDegradedError);
        return;
      }
    }
    throw new Error('500 changes fitted on a full disk');
  };
  /** A supervisor on a tiny tmpfs of its own. */
  const onATinyDisk = () => {
    const disk = tinyDisk() as FullDisk;
    disks.push(disk);
    return disk;
  };

  it.skipIf(mountable === undefined)(
    'survives ENOSPC from the real file store and saves everything once the disk has room',
    () => {
      const disk = onATinyDisk();
      const clock = new SimulatedClock();
      const { logger } = captureLogger('info');
      const sup = createSupervisor({ stateDir: disk.dir, clock, logger, tickMs: 1000 });
      sup.register({ id: 'n-1' });
      sup.start();
      disk.fill();
      writeUntilFull(sup);
      expect(sup.storage().error).toMatch(/ENOSPC|no space/i);
      expect(() => sup.isolate('n-1', 'on a full disk')).toThrow(StorageDegradedError);
      expect(sup.node('n-1')?.state).toBe('online');
      expect(() => sup.pin('n-1')).toThrow(StorageDegradedError);
      expect(sup.overrides().pinned).toEqual([]);
      for (let i = 0; i < 5; i++) expect(() => clock.increment(1000)).not.toThrow();
      const saved = () => new FileStateStore(disk.dir).load()?.nodes[0];
      expect(saved()?.state).toBe('online');
      disk.free();
      clock.increment(30_000);
      expect(sup.storage().degraded).toBe(false);
      sup.isolate('n-1', 'once the disk has room');
      expect(saved()?.state).toBe('isolated');
      return sup.stop();
    },
  );

  it.skipIf(mountable === undefined)(
    'rejects stop() while the disk is still full, and lets go of the directory all the same',
    async () => {
      const disk = onATinyDisk();
      const { logger } = captureLogger('info');
      const sup = createSupervisor({ stateDir: disk.dir, clock: new SimulatedClock(), logger });
      sup.register({ id: 'n-1' });
      disk.fill();
      writeUntilFull(sup);
      await expect(sup.stop()).rejects.toThrow(/ENOSPC|no space/i);
      disk.free();
      const next = createSupervisor({ stateDir: disk.dir, clock: new SimulatedClock(), logger });
      expect(next.node('n-1')).toBeDefined();
      await next.stop();
    },
  );
});
