import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AuditLog,
  createSupervisor,
  type DurableState,
  defineRule,
  MemoryAuditLog,
  MemoryStateStore,
  StateCorruptError,
  type StateStore,
  type SupervisorOptions,
} from 'wyneos';
import { advanceClock, SimulatedClock } from 'wyneos/testing';
import { silentLogger } from './helpers.js';

const tickMs = 1000;
const timeoutMs = 3000;

/** A supervisor on `store` and `audit` whose clock starts at `startAt` (a restart comes later). */
function boot(
  storage: { stateStore?: StateStore; auditLog?: AuditLog; stateDir?: string; recover?: boolean },
  startAt = 0,
  options: SupervisorOptions = {},
) {
  const clock = new SimulatedClock();
  clock.set(startAt);
  const sup = createSupervisor({
    logger: silentLogger,
    clock,
    tickMs,
    heartbeatTimeoutMs: timeoutMs,
    ...storage,
    ...options,
  });
  sup.start();
  return { sup, clock, advance: (ms: number) => advanceClock(clock, ms, tickMs) };
}

/** A store that counts its saves. */
class CountingStore extends MemoryStateStore {
  saves = 0;
  override save(state: DurableState): void {
    this.saves++;
    super.save(state);
  }
}

describe('durability', () => {
  it('keeps an isolated node isolated across a restart, with its reason, backoff and count', async () => {
    const stateStore = new MemoryStateStore();
    const first = boot({ stateStore, auditLog: new MemoryAuditLog() });
    first.sup.register({ id: 'a', labels: { zone: 'x' }, version: '1.2.3' });
    first.sup.register({ id: 'b' });
    first.sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.2 });
    first.sup.isolate('a', 'disk failing');
    first.sup.protect('b');
    const before = first.sup.node('a');
    // A crash: no stop(), the process is simply gone. What was saved is what there is.
    const second = boot({ stateStore, auditLog: new MemoryAuditLog() }, 60_000);
    expect(second.sup.node('a')).toMatchObject({
      state: 'isolated',
      reason: 'disk failing',
      since: before?.since,
      isolations: 1,
      labels: { zone: 'x' },
      version: '1.2.3',
      seq: 1,
    });
    expect(second.sup.overrides()).toEqual({ protected: ['b'], pinned: [] });
    expect(() => second.sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.1 })).toThrow(/not newer/);
    second.advance(120_000);
    expect(second.sup.node('a')?.state).toBe('isolated'); // an operator's isolation: only an operator lifts it
    await second.sup.stop();
  });

  it("continues an automatic isolation's backoff and probation after a restart", async () => {
    const stateStore = new MemoryStateStore();
    const rule = defineRule({
      id: 'labelled',
      description: 'is labelled ok',
      enforcement: 'isolate',
      evaluate: (n) => n.labels.ok === 'yes',
    });
    const first = boot({ stateStore }, 0, {
      rules: [rule],
      escalation: { baseMs: 30_000, jitter: 0 },
    });
    first.sup.register({ id: 'n', labels: { ok: 'no' } });
    first.advance(tickMs);
    const isolated = first.sup.node('n');
    expect(isolated).toMatchObject({ state: 'isolated', reinstateAt: 31_000, escalation: 1 });
    const second = boot({ stateStore }, 10_000, {
      rules: [rule],
      escalation: { baseMs: 30_000, jitter: 0 },
    });
    expect(second.sup.node('n')).toMatchObject({
      state: 'isolated',
      reinstateAt: 31_000,
      escalation: 1,
    });
    await second.sup.stop();
  });

  it('gives nodes that were online one heartbeat timeout of grace after a restart', async () => {
    const stateStore = new MemoryStateStore();
    const first = boot({ stateStore });
    first.sup.register({ id: 'n' });
    first.sup.heartbeat({ nodeId: 'n', seq: 1, load: 0.3 });
    first.advance(2 * tickMs);
    // Down for a minute: the node's last heartbeat is long past the timeout, but the supervisor
    // was not watching, so silence only counts from its restart.
    const second = boot({ stateStore }, 62_000);
    second.advance(timeoutMs - tickMs);
    expect(second.sup.node('n')?.state).toBe('online');
    second.advance(tickMs);
    expect(second.sup.node('n')?.state).toBe('offline');
    await second.sup.stop();
  });

  it('saves after a tick that changed durable state, not after a quiet one, and on every operator command', async () => {
    const stateStore = new CountingStore();
    const { sup, advance } = boot({ stateStore });
    const afterStart = stateStore.saves;
    sup.register({ id: 'n' });
    expect(stateStore.saves).toBe(afterStart + 1);
    for (let seq = 1; seq <= 3; seq++) {
      sup.heartbeat({ nodeId: 'n', seq, load: 0.3 });
      advance(tickMs);
    }
    expect(stateStore.saves).toBe(afterStart + 1); // quiet ticks
    advance(timeoutMs + tickMs); // n goes offline: a durable change
    expect(stateStore.saves).toBe(afterStart + 2);
    sup.pin('n');
    expect(stateStore.saves).toBe(afterStart + 3);
    expect(stateStore.load()?.overrides.pinned).toEqual(['n']);
    await sup.stop();
  });

  it('names action ids by boot, so no id repeats after a restart', async () => {
    const stateStore = new MemoryStateStore();
    const ids: string[] = [];
    for (const at of [0, 10_000]) {
      const { sup } = boot({ stateStore }, at);
      sup.actions$.subscribe((a) => a.status === 'applied' && ids.push(a.id));
      if (at === 0) sup.register({ id: 'n' });
      sup.isolate('n', 'check');
      sup.reinstate('n', 'checked');
      await sup.stop();
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^action-1\.\d+$/);
    expect(ids.at(-1)).toMatch(/^action-2\.\d+$/);
  });

  it('writes every decision to the audit log, in order', async () => {
    const auditLog = new MemoryAuditLog();
    const { sup, advance } = boot({ auditLog });
    sup.register({ id: 'n' });
    sup.isolate('n', 'maintenance');
    sup.protect('n');
    sup.setPolicy({ version: 'v2', rules: [] });
    advance(tickMs);
    await sup.stop();
    const records = auditLog.read();
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => (records[0]?.seq ?? 0) + i));
    expect(records.map((r) => [r.type, r.nodeId ?? null])).toEqual([
      ['start', null],
      ['admission', 'n'],
      ['action', 'n'],
      ['action', 'n'],
      ['transition', 'n'],
      ['operator', 'n'],
      ['policy', null],
      ['stop', null],
    ]);
    expect(records[4]?.data).toMatchObject({
      from: 'online',
      to: 'isolated',
      reason: 'maintenance',
    });
    expect(records[3]?.data).toMatchObject({
      type: 'isolate',
      status: 'applied',
      origin: 'operator',
    });
    expect(records[5]?.data).toEqual({ command: 'protect', on: true });
  });

  it('refuses to start on a corrupt state file, naming it, and starts from the last good copy with recover', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-durability-'));
    const first = boot({ stateDir: dir });
    first.sup.register({ id: 'kept' });
    first.sup.isolate('kept', 'quarantine');
    first.sup.register({ id: 'later' });
    await first.sup.stop();
    // Each start compacts the journal into a snapshot; the one before becomes the last good copy.
    for (let restart = 0; restart < 2; restart++) await boot({ stateDir: dir }).sup.stop();
    await writeFile(join(dir, 'state.json'), '{"format":"wyneos-state","vers');
    expect(() => boot({ stateDir: dir })).toThrow(StateCorruptError);
    expect(() => boot({ stateDir: dir })).toThrow(join(dir, 'state.json'));
    const recovered = boot({ stateDir: dir, recover: true });
    expect(recovered.sup.node('kept')?.state).toBe('isolated');
    await recovered.sup.stop();
  });
});
