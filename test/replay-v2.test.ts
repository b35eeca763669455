import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readTrace, type TraceEntry } from '../src/exports/testing.js';
import type { Heartbeat } from '../src/index.js';
import { batchTag, encodeBatch, noMetrics } from '../src/replay/batch-codec.js';
import { TraceRecorder } from '../src/replay/index.js';
import { silentLogger } from './helpers.js';

const terms = { tickMs: 1000, heartbeatTimeoutMs: 3000 };
const header = { format: 'wyneos-trace', version: 2, segment: 1, ...terms };

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'wyneos-trace-v2-'));
}

/** Records `beats` (and a registration and an operator command among them) in small batches. */
async function record(dir: string, beats: readonly Heartbeat[]): Promise<TraceEntry[]> {
  const recorder = new TraceRecorder({ dir }, terms, silentLogger, {
    flushMs: 1_000_000,
    flushEntries: 3,
  });
  const expected: TraceEntry[] = [];
  recorder.register([{ id: 'ünï-✓', labels: { zone: 'ø' } }], 0);
  expected.push([0, 'r', { id: 'ünï-✓', labels: { zone: 'ø' } }]);
  beats.forEach((beat, i) => {
    recorder.heartbeat(beat, i + 1);
    const { nodeId, seq, epoch, load, metrics } = beat;
    const kept = { nodeId, seq, epoch: epoch ?? 0, load, ...(metrics ? { metrics } : {}) };
    expected.push([i + 1, 'h', kept]);
    if (i === 1) {
      recorder.operator('isolate', nodeId, 'drain', i + 1);
      expected.push([i + 1, 'o', 'isolate', nodeId, 'drain']);
    }
  });
  await recorder.close();
  return expected;
}

describe('trace format version 2', () => {
  it('round-trips heartbeats with and without metrics, and ids with unicode, as binary batches', async () => {
    const dir = freshDir();
    const beats: Heartbeat[] = [
      { nodeId: 'ünï-✓', seq: 1, load: 0.5 },
      { nodeId: '节点-🚀', seq: 2, epoch: 1_765_000_000_123, load: 0.1, metrics: { mem: 0.25 } },
      { nodeId: 'ünï-✓', seq: 3, load: 1, metrics: {} },
      { nodeId: 'plain', seq: 4, load: 0, metrics: { 'disk-µ': -0, cpu: 1e-300, mem: 0.3 } },
      { nodeId: '节点-🚀', seq: 5, load: 0.7 },
    ];
    const expected = await record(dir, beats);
    const trace = readTrace(dir);
    expect(trace.header).toEqual(header);
    expect([...trace.entries()]).toEqual(expected);
    expect(trace.damage).toEqual([]);
    // The batches after the header are binary members, not JSON lines.
    const [file] = readdirSync(dir);
    const text = gunzipSync(readFileSync(join(dir, file as string)));
    expect(text.indexOf(Buffer.from([batchTag, 0, 0, 0]))).toBeGreaterThan(0);
    expect(text.toString('latin1')).not.toContain('"h"');
  });

  it('round-trips generated heartbeats exactly', async () => {
    const beat = fc.record(
      {
        nodeId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
        seq: fc.nat(),
        epoch: fc.nat(),
        load: fc.double({ min: 0, max: 1, noNaN: true }),
        metrics: fc.dictionary(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          { maxKeys: 5, noNullPrototype: true },
        ),
      },
      { requiredKeys: ['nodeId', 'seq', 'load'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(beat, { minLength: 2, maxLength: 12 }), async (beats) => {
        const dir = freshDir();
        const expected = await record(dir, beats);
        expect([...readTrace(dir).entries()]).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('reports a damaged or truncated batch with its offset and replays the rest', () => {
    const dir = freshDir();
    const head = gzipSync(`${JSON.stringify(header)}\n[0,"r",{"id":"a"}]\n[0,"r",{"id":"b"}]\n`);
    const batch = (seq: number, defines: Array<[number, string]>) =>
      gzipSync(
        encodeBatch(
          {
            count: 2,
            times: Float64Array.of(seq * 1000, seq * 1000),
            kinds: Uint8Array.of(0, 0),
            nodes: Uint32Array.of(0, 1),
            seqs: Float64Array.of(seq, seq),
            epochs: Float64Array.of(0, 0),
            loads: Float64Array.of(0.5, 0.9),
            metricCounts: Uint32Array.of(1, noMetrics),
            metricNames: Uint32Array.of(0),
            metricValues: Float64Array.of(seq / 10),
            others: [],
          },
          defines,
          [[0, 'mem']],
        ),
      );
    const first = batch(1, [
      [0, 'a'],
      [1, 'b'],
    ]);
    const damaged = batch(2, []);
    damaged[14] = (damaged[14] as number) ^ 0xff;
    const third = batch(3, []);
    const file = 'trace-000001.ndjson.gz';
    const cut = third.length - 5;
    writeFileSync(
      join(dir, file),
      Buffer.concat([head, first, damaged, third, third.subarray(0, cut)]),
    );

    const trace = readTrace(dir);
    const entries = [...trace.entries()];
    expect(entries.map(([at, kind]) => `${kind}${at}`)).toEqual([
      'r0',
      'r0',
      'h1000',
      'h1000',
      'h3000',
      'h3000',
    ]);
    expect(entries[2]).toEqual([
      1000,
      'h',
      { nodeId: 'a', seq: 1, epoch: 0, load: 0.5, metrics: { mem: 0.1 } },
    ]);
    expect(entries[5]).toEqual([3000, 'h', { nodeId: 'b', seq: 3, epoch: 0, load: 0.9 }]);
    const at = head.length + first.length;
    expect(trace.damage).toEqual([
      { file, offset: at, bytes: damaged.length, problem: expect.any(String) },
      {
        file,
        offset: at + damaged.length + third.length,
        bytes: cut,
        problem: expect.any(String),
      },
    ]);
  });

  it('skips and reports the heartbeats whose ids were defined in a damaged batch', () => {
    const dir = freshDir();
    const head = gzipSync(`${JSON.stringify(header)}\n`);
    const batch = (defines: Array<[number, string]>) =>
      gzipSync(
        encodeBatch(
          {
            count: 1,
            times: Float64Array.of(1000),
            kinds: Uint8Array.of(0),
            nodes: Uint32Array.of(0),
            seqs: Float64Array.of(1),
            epochs: Float64Array.of(0),
            loads: Float64Array.of(0.5),
            metricCounts: Uint32Array.of(noMetrics),
            metricNames: new Uint32Array(0),
            metricValues: new Float64Array(0),
            others: [],
          },
          defines,
          [],
        ),
      );
    const damaged = batch([[0, 'a']]);
    damaged[damaged.length - 7] = (damaged[damaged.length - 7] as number) ^ 0xff;
    const later = batch([]);
    writeFileSync(join(dir, 'trace-000001.ndjson.gz'), Buffer.concat([head, damaged, later]));
    const trace = readTrace(dir);
    expect([...trace.entries()]).toEqual([]);
    expect(trace.damage).toEqual([
      {
        file: 'trace-000001.ndjson.gz',
        offset: head.length,
        bytes: damaged.length,
        problem: expect.any(String),
      },
      {
        file: 'trace-000001.ndjson.gz',
        offset: head.length + damaged.length,
        bytes: 0,
        problem: '1 heartbeats of nodes defined in a damaged batch',
      },
    ]);
  });
});
