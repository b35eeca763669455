import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrace } from '../src/exports/testing.js';
import { decodeBatch, encodeBatch } from '../src/replay/batch-codec.js';
import { TraceRecorder } from '../src/replay/index.js';
import { PendingBatch } from '../src/replay/pending-batch.js';
import { silentLogger, simulatedSupervisor } from './helpers.js';

const terms = { tickMs: 1000, heartbeatTimeoutMs: 3000 };

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'wyneos-recorder-'));
}

describe('trace recorder', () => {
  it("keeps a node's id index on the record it is given, so the fleet's map is read once a node", async () => {
    const dir = freshDir();
    const recorder = new TraceRecorder({ dir }, terms, silentLogger);
    const a = { traced: -1 };
    const b = { traced: -1 };
    recorder.heartbeat({ nodeId: 'a', seq: 1, load: 0.1 }, 1, a);
    recorder.heartbeat({ nodeId: 'b', seq: 1, load: 0.2 }, 2, b);
    recorder.heartbeat({ nodeId: 'a', seq: 2, load: 0.3 }, 3, a);
    expect([a.traced, b.traced]).toEqual([0, 1]);
    await recorder.close();
    expect([...readTrace(dir).entries()].map((e) => e[2])).toEqual([
      { nodeId: 'a', seq: 1, epoch: 0, load: 0.1 },
      { nodeId: 'b', seq: 1, epoch: 0, load: 0.2 },
      { nodeId: 'a', seq: 2, epoch: 0, load: 0.3 },
    ]);
  });

  it('records a node that left and came back under its id, through its new record', async () => {
    const dir = freshDir();
    const { sup, clock } = simulatedSupervisor({ record: { dir } });
    sup.register({ id: 'a' });
    sup.register({ id: 'b' });
    sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.1 });
    sup.deregister('a');
    // b's slot and record stay; c takes the slot a freed.
    sup.register({ id: 'c' });
    sup.register({ id: 'a' });
    clock.increment(1000);
    sup.heartbeat({ nodeId: 'c', seq: 1, load: 0.2 });
    sup.heartbeat({ nodeId: 'a', seq: 2, load: 0.3 });
    sup.heartbeat({ nodeId: 'b', seq: 1, load: 0.4 });
    await sup.stop();
    const beats = [...readTrace(dir).entries()].filter((e) => e[1] === 'h').map((e) => e[2]);
    expect(beats).toEqual([
      { nodeId: 'a', seq: 1, epoch: 0, load: 0.1 },
      { nodeId: 'c', seq: 1, epoch: 0, load: 0.2 },
      { nodeId: 'a', seq: 2, epoch: 0, load: 0.3 },
      { nodeId: 'b', seq: 1, epoch: 0, load: 0.4 },
    ]);
  });

  it('hands the codec views of its preallocated columns, not copies', () => {
    const batch = new PendingBatch(8);
    batch.times[0] = 5;
    batch.nodes[0] = 2;
    batch.metricCounts[0] = 1;
    batch.metricNames[0] = 0;
    batch.metricValues[0] = 0.5;
    batch.count = 1;
    batch.metricCount = 1;
    const columns = batch.columns();
    expect(columns.times.buffer).toBe(batch.times.buffer);
    expect(columns.metricValues.buffer).toBe(batch.metricValues.buffer);
    expect([columns.count, columns.times.length, columns.metricNames.length]).toEqual([1, 1, 1]);
    batch.clear();
    expect([batch.count, batch.metricCount, batch.times.length]).toEqual([0, 0, 8]);
  });

  it('encodes into the buffer it is given when the batch fits, and into a new one when not', () => {
    const batch = new PendingBatch(4);
    for (let i = 0; i < 3; i++) {
      batch.times[i] = 1000 + i;
      batch.nodes[i] = i;
      batch.seqs[i] = i + 1;
      batch.loads[i] = i / 10;
      batch.metricCounts[i] = 0xffffffff;
    }
    batch.count = 3;
    const ids: Array<[number, string]> = [
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
    ];
    const fresh = encodeBatch(batch.columns(), ids, []);
    const into = Buffer.alloc(fresh.length + 100, 0xee);
    const reused = encodeBatch(batch.columns(), ids, [], into);
    expect(reused.buffer).toBe(into.buffer);
    expect(reused.byteOffset).toBe(into.byteOffset);
    expect(reused.equals(fresh)).toBe(true);
    const small = Buffer.alloc(fresh.length - 1);
    const grown = encodeBatch(batch.columns(), ids, [], small);
    expect(grown.buffer).not.toBe(small.buffer);
    expect(grown.equals(fresh)).toBe(true);
    const decoded = decodeBatch(reused, []);
    expect(typeof decoded === 'string' ? decoded : decoded.entries.length).toBe(3);
  });
});
