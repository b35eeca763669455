import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSupervisor,
  type Heartbeat,
  HeartbeatResyncError,
  StaleHeartbeatError,
  type SupervisorOptions,
} from 'wyneos';
import { advanceClock, SimulatedClock } from 'wyneos/testing';
import { silentLogger } from './helpers.js';

const tickMs = 1000;

function boot(options: SupervisorOptions = {}) {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const sup = createSupervisor({
    logger: silentLogger,
    clock,
    tickMs,
    heartbeatTimeoutMs: 3000,
    ...options,
  });
  sup.start();
  return { sup, clock, advance: (ms: number) => advanceClock(clock, ms, tickMs) };
}

/**
 * The supervisor on `stateDir` crashed: it is abandoned, never stopped, and its lock goes as a
 * dead process's would (a stale lock is taken over; in one process only removing it says so).
 */
function crashed(stateDir: string): string {
  rmSync(join(stateDir, 'wyneos.lock'));
  return stateDir;
}

const beat = (seq: number, more: Partial<Heartbeat> = {}): Heartbeat => ({
  nodeId: 'n1',
  seq,
  load: 0.2,
  ...more,
});

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('heartbeat epochs', () => {
  it('orders heartbeats by epoch, then seq: a new incarnation may start its seq again', () => {
    const { sup } = boot();
    sup.register({ id: 'n1' });
    sup.heartbeat(beat(5));
    expect(thrown(() => sup.heartbeat(beat(5)))).toBeInstanceOf(StaleHeartbeatError);
    sup.heartbeat(beat(0, { epoch: 3 }));
    const older = thrown(() => sup.heartbeat(beat(100, { epoch: 2 })));
    expect(older).toBeInstanceOf(StaleHeartbeatError);
    expect((older as Error).message).toContain('epoch 2 is older than 3');
    expect(thrown(() => sup.heartbeat(beat(0, { epoch: 3 })))).toBeInstanceOf(StaleHeartbeatError);
    sup.heartbeat(beat(1, { epoch: 3 }));
    expect(sup.node('n1')?.seq).toBe(1);
  });

  it('accepts a heartbeat exactly when its (epoch, seq) is past every one accepted before', () => {
    const pair = fc.tuple(fc.nat(4), fc.nat(6));
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 30 }), (beats) => {
        const { sup } = boot();
        sup.register({ id: 'n1' });
        let last: [number, number] = [0, -1];
        for (const [epoch, seq] of beats) {
          const expected = epoch > last[0] || (epoch === last[0] && seq > last[1]);
          const error = thrown(() => sup.heartbeat(beat(seq, { epoch })));
          expect(error === undefined, `(${epoch}, ${seq}) after (${last})`).toBe(expected);
          if (expected) last = [epoch, seq];
          else expect(error).toBeInstanceOf(StaleHeartbeatError);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('answers every accepted heartbeat with its boot, and ignores boot on a node heard in this boot', () => {
    const { sup } = boot();
    sup.register({ id: 'n1' });
    expect(sup.heartbeat(beat(1))).toEqual({ boot: 1 });
    expect(sup.heartbeat(beat(2, { boot: 1 }))).toEqual({ boot: 1 });
  });
});

describe('heartbeats across a crash', () => {
  it('saves each node high-water mark once a tick, so a restart still refuses what it had taken', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wyneos-epoch-'));
    const first = boot({ stateDir });
    first.sup.register({ id: 'n1' });
    first.sup.heartbeat(beat(7, { epoch: 2 }));
    first.advance(tickMs);
    const second = boot({ stateDir: crashed(stateDir) });
    expect(second.sup.node('n1')?.seq).toBe(7);
    // Even carrying the current boot, a heartbeat at or below the saved mark is stale.
    expect(thrown(() => second.sup.heartbeat(beat(7, { epoch: 2, boot: 2 })))).toBeInstanceOf(
      StaleHeartbeatError,
    );
    expect(thrown(() => second.sup.heartbeat(beat(9, { epoch: 1, boot: 2 })))).toBeInstanceOf(
      StaleHeartbeatError,
    );
  });

  it('appends the marks of a beating fleet to the journal and leaves the snapshot alone', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wyneos-epoch-'));
    const { sup, advance } = boot({ stateDir });
    sup.registerMany([{ id: 'n1' }, { id: 'n2' }]);
    advance(tickMs);
    const snapshot = statSync(join(stateDir, 'state.json'));
    const journal = () => readFileSync(join(stateDir, 'state.journal.jsonl'), 'utf8');
    for (let seq = 1; seq <= 5; seq++) {
      sup.heartbeat(beat(seq));
      sup.heartbeat({ ...beat(seq), nodeId: 'n2' });
      advance(tickMs);
    }
    expect(statSync(join(stateDir, 'state.json')).mtimeMs).toBe(snapshot.mtimeMs);
    const marks = journal()
      .split('\n')
      .filter((line) => line.includes('"marks"'))
      .map((line) => JSON.parse(line).marks);
    expect(marks).toEqual(
      [1, 2, 3, 4, 5].map((seq) => [
        ['n1', 0, seq],
        ['n2', 0, seq],
      ]),
    );
  });

  it('refuses a restored node heartbeats without the current boot, those sent before the crash included', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wyneos-epoch-'));
    const first = boot({ stateDir });
    first.sup.register({ id: 'n1' });
    const { boot: before } = first.sup.heartbeat(beat(1, { epoch: 4 }));
    first.advance(tickMs);
    // Acknowledged, then a crash before the next tick saved its mark.
    const acknowledged = beat(2, { epoch: 4, boot: before });
    first.sup.heartbeat(acknowledged);
    const second = boot({ stateDir: crashed(stateDir) });
    for (const replayed of [acknowledged, beat(2, { epoch: 4 }), beat(3, { epoch: 4 })]) {
      const error = thrown(() => second.sup.heartbeat(replayed));
      expect(error).toBeInstanceOf(HeartbeatResyncError);
      expect(error).toMatchObject({ code: 'WYNEOS_ERR_HEARTBEAT_RESYNC', boot: 2, nodeId: 'n1' });
    }
    // A genuine agent sends again with the boot and its next seq; then the node is heard.
    expect(second.sup.heartbeat(beat(3, { epoch: 4, boot: 2 }))).toEqual({ boot: 2 });
    expect(thrown(() => second.sup.heartbeat(beat(3, { epoch: 4, boot: 2 })))).toBeInstanceOf(
      StaleHeartbeatError,
    );
    second.sup.heartbeat(beat(4, { epoch: 4 }));
  });

  it('takes a restarted agent (a higher epoch, seq from 0) once it carries the current boot', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wyneos-epoch-'));
    const first = boot({ stateDir });
    first.sup.register({ id: 'n1' });
    first.sup.heartbeat(beat(500, { epoch: 4 }));
    first.advance(tickMs);
    const second = boot({ stateDir: crashed(stateDir) });
    expect(thrown(() => second.sup.heartbeat(beat(0, { epoch: 9 })))).toBeInstanceOf(
      HeartbeatResyncError,
    );
    second.sup.heartbeat(beat(0, { epoch: 9, boot: 2 }));
    expect(second.sup.node('n1')?.seq).toBe(0);
  });

  it('does not ask a node registered since the restart for the boot', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'wyneos-epoch-'));
    boot({ stateDir });
    const second = boot({ stateDir: crashed(stateDir) });
    second.sup.register({ id: 'n1' });
    expect(second.sup.heartbeat(beat(1))).toEqual({ boot: 2 });
  });
});
