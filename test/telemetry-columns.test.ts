import { describe, expect, it } from 'vitest';
import { TelemetryColumns } from '../src/telemetry/columns.js';

const fieldsAt = (columns: TelemetryColumns, slot: number) => ({
  load: columns.load[slot],
  lastHeartbeatAt: columns.lastHeartbeatAt[slot],
  seq: columns.seq[slot],
  epoch: columns.epoch[slot],
});
const fresh = { load: 0, lastHeartbeatAt: -1, seq: -1, epoch: 0 };

function write(columns: TelemetryColumns, slot: number, n: number): void {
  columns.load[slot] = n / 10_000;
  columns.lastHeartbeatAt[slot] = 1_700_000_000_000 + n;
  columns.seq[slot] = n;
  columns.epoch[slot] = n + 1;
}

describe('telemetry columns', () => {
  it('hands freed slots out again, last freed first, each with every field fresh', () => {
    const columns = new TelemetryColumns();
    const slots = [0, 1, 2, 3].map(() => columns.allocate());
    expect(slots).toEqual([0, 1, 2, 3]);
    for (const slot of slots) write(columns, slot, slot + 5);
    columns.free(1);
    columns.free(3);
    expect(columns.taken).toBe(2);
    expect(columns.allocate()).toBe(3);
    expect(columns.allocate()).toBe(1);
    expect(fieldsAt(columns, 3)).toEqual(fresh);
    expect(fieldsAt(columns, 1)).toEqual(fresh);
    // Nothing free: a new slot past the last one handed out, and the others keep their values.
    expect(columns.allocate()).toBe(4);
    expect(columns.taken).toBe(5);
    expect(fieldsAt(columns, 2)).toEqual({
      load: 7 / 10_000,
      lastHeartbeatAt: 1_700_000_000_007,
      seq: 7,
      epoch: 8,
    });
  });

  it('doubles its capacity when every slot is taken, keeping every value', () => {
    const columns = new TelemetryColumns();
    const start = columns.capacity;
    for (let i = 0; i < start; i++) write(columns, columns.allocate(), i);
    expect(columns.capacity).toBe(start);
    const slot = columns.allocate();
    expect(slot).toBe(start);
    expect(columns.capacity).toBe(start * 2);
    expect(fieldsAt(columns, slot)).toEqual(fresh);
    for (let i = 0; i < start; i++) {
      expect(fieldsAt(columns, i)).toEqual({
        load: i / 10_000,
        lastHeartbeatAt: 1_700_000_000_000 + i,
        seq: i,
        epoch: i + 1,
      });
    }
    // Large seqs and epochs stay exact (they go up to Number.MAX_SAFE_INTEGER).
    columns.seq[slot] = Number.MAX_SAFE_INTEGER;
    expect(columns.seq[slot]).toBe(Number.MAX_SAFE_INTEGER);
  });
});
