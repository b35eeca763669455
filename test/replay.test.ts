import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readTrace, replayTrace, type TraceEntry } from '../src/exports/testing.js';
import { InvalidConditionError, InvalidTraceError, type Policy } from '../src/index.js';
import { parseCondition, replayLines, TraceRecorder } from '../src/replay/index.js';
import { silentLogger, simulatedSupervisor } from './helpers.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-trace-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  dirs.length = 0;
});

// Isolates a node whose load reaches 0.8: stricter than no rules at all.
const strict: Policy = {
  version: 'strict',
  rules: [
    {
      id: 'max-load',
      description: 'load under 0.8',
      enforcement: 'isolate',
      evaluate: (node) => node.load < 0.8,
    },
  ],
};

/** A small fleet recorded through a real supervisor: n3 runs hot from the 11th second. */
async function recordFleet(dir: string): Promise<void> {
  const { sup, clock } = simulatedSupervisor({ record: { dir } });
  for (let i = 0; i < 5; i++) sup.register({ id: `n${i}`, labels: { tier: 'main' } });
  for (let s = 1; s <= 30; s++) {
    for (let i = 0; i < 5; i++) {
      sup.heartbeat({ nodeId: `n${i}`, seq: s, load: i === 3 && s > 10 ? 0.85 : 0.3 });
    }
    clock.increment(1000);
  }
  sup.isolate('n1', 'maintenance');
  sup.protect('n2');
  sup.deregister('n4');
  clock.increment(1000);
  await sup.stop();
}

describe('replay', () => {
  it('records every accepted input with its receive time, and nothing refused', async () => {
    const dir = freshDir();
    const { sup, clock } = simulatedSupervisor({ record: { dir } });
    clock.set(5000);
    sup.register({ id: 'a', labels: { zone: 'x' }, version: '1.2.3' });
    sup.registerMany([{ id: 'b' }]);
    clock.increment(250);
    sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.5, metrics: { mem: 0.25 } });
    expect(() => sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.5 })).toThrow(); // stale
    expect(() => sup.heartbeat({ nodeId: 'zz', seq: 1, load: 0.5 })).toThrow(); // unknown
    sup.heartbeats([{ nodeId: 'b', seq: 4, load: 0.1 }]);
    sup.isolate('a', 'drain');
    sup.reinstate('a', 'back');
    sup.pin('b');
    sup.deregister('b');
    await sup.stop();

    const trace = readTrace(dir);
    expect(trace.header).toEqual({
      format: 'wyneos-trace',
      version: 2,
      segment: 1,
      tickMs: 1000,
      heartbeatTimeoutMs: 3000,
    });
    expect([...trace.entries()]).toEqual([
      [5000, 'r', { id: 'a', labels: { zone: 'x' }, version: '1.2.3' }],
      [5000, 'r', { id: 'b' }],
      [5250, 'h', { nodeId: 'a', seq: 1, epoch: 0, load: 0.5, metrics: { mem: 0.25 } }],
      [5250, 'h', { nodeId: 'b', seq: 4, epoch: 0, load: 0.1 }],
      [5250, 'o', 'isolate', 'a', 'drain'],
      [5250, 'o', 'reinstate', 'a', 'back'],
      [5250, 'o', 'pin', 'b', true],
      [5250, 'd', 'b'],
    ] satisfies TraceEntry[]);
    expect(trace.damage).toEqual([]);
  });

  it('rotates segments and drops the oldest to stay within maxBytes, carrying the fleet over', async () => {
    const dir = freshDir();
    const maxBytes = 40_000;
    const recorder = new TraceRecorder(
      { dir, maxBytes },
      { tickMs: 1000, heartbeatTimeoutMs: 3000 },
      silentLogger,
      { flushMs: 1_000_000, flushEntries: 500 },
    );
    recorder.register([{ id: 'n0' }, { id: 'n1' }], 0);
    // Loads from a fixed sequence that compresses poorly, so segments fill.
    let x = 7;
    for (let seq = 1; seq <= 20_000; seq++) {
      x = (x * 48271) % 2147483647;
      recorder.heartbeat({ nodeId: `n${seq % 2}`, seq, load: (x % 1000) / 1000 }, seq * 10);
    }
    await recorder.close();

    const names = readdirSync(dir).sort();
    const total = names.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    expect(total).toBeLessThanOrEqual(maxBytes);
    expect(names.length).toBeGreaterThan(1);
    expect(names[0]).not.toBe('trace-000001.ndjson.gz'); // the oldest were dropped
    const trace = readTrace(dir);
    const entries = [...trace.entries()];
    // The first segment kept still knows the fleet registered in a dropped one.
    expect(entries.slice(0, 2).map((e) => e[1])).toEqual(['k', 'k']);
    expect(entries[entries.length - 1]?.[0]).toBe(200_000);
    const result = await replayTrace(trace, { policy: strict });
    expect(result.summary.find((r) => r.figure === 'refused')?.policy).toBe(0);
  });

  it('stops recording, and only recording, when the disk falls behind the fleet', async () => {
    const dir = freshDir();
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const recorder = new TraceRecorder({ dir }, { tickMs: 1000, heartbeatTimeoutMs: 3000 }, log, {
      flushMs: 1_000_000,
      flushEntries: 10,
      maxQueued: 200,
    });
    recorder.register([{ id: 'n0' }], 0);
    // Synchronously, so no write can land in between: 1,000 entries wait for the disk at once.
    for (let seq = 1; seq <= 1000; seq++) {
      recorder.heartbeat({ nodeId: 'n0', seq, load: 0.5 }, seq);
    }
    await recorder.close();
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        msg: 'trace recording stopped',
        error: 'the disk does not keep up with the fleet',
      }),
    ]);
    // What was queued before the bound is on disk, in order; nothing after it.
    const beats = [...readTrace(dir).entries()].filter((e) => e[1] === 'h');
    expect(beats.length).toBeGreaterThan(0);
    expect(beats.length).toBeLessThan(1000);
    expect(beats.map((e) => e[0])).toEqual(beats.map((_, i) => i + 1));
  });

  it('shows what a stricter policy would have done differently, per node and time', async () => {
    const dir = freshDir();
    await recordFleet(dir);
    const result = await replayTrace(dir, { policy: strict });
    expect(result.differences).toEqual([
      {
        at: 11_000,
        nodeId: 'n3',
        policy: [
          {
            kind: 'action',
            what: 'isolate',
            reason: 'rule max-load failed: load under 0.8',
            status: 'applied',
          },
          {
            kind: 'transition',
            what: 'online→isolated',
            reason: 'rule max-load failed: load under 0.8',
          },
        ],
        baseline: [],
      },
    ]);
    const isolations = result.summary.find((r) => r.figure === 'isolations');
    // The operator's isolation of n1 happens under both.
    expect(isolations).toEqual({ figure: 'isolations', policy: 2, baseline: 1 });
    expect(result.compliance).toHaveLength(1);
    expect(result.compliance[0]?.ruleId).toBe('max-load');
    expect(result.compliance[0]?.baseline).toBeNull();
    expect(result.compliance[0]?.policy?.fail).toBeGreaterThan(0);
    expect(parseCondition('isolations > 0')(result)).toBe(true);
    expect(parseCondition('isolations > 1 || differences == 0')(result)).toBe(false);
  });

  it('counts only what happens inside --from and --to', async () => {
    const dir = freshDir();
    await recordFleet(dir);
    const before = await replayTrace(dir, { policy: strict, to: 10_000 });
    expect(before.differences).toEqual([]);
    const after = await replayTrace(dir, { policy: strict, from: 12_000 });
    expect(after.differences).toEqual([]);
    expect(after.trace.entries).toBeGreaterThan(before.trace.entries);
  });

  it('gives byte-identical output for the same trace and policies', async () => {
    const dir = freshDir();
    await recordFleet(dir);
    const runs = await Promise.all([1, 2].map(() => replayTrace(dir, { policy: strict })));
    const [first, second] = runs.map((r) => `${JSON.stringify(r)}\n${replayLines(r).join('\n')}`);
    expect(first).toBe(second);
  });

  it('reports a truncated segment with its file and offset, and replays the rest', async () => {
    const dir = freshDir();
    const header = {
      format: 'wyneos-trace',
      version: 1,
      segment: 1,
      tickMs: 1000,
      heartbeatTimeoutMs: 3000,
    };
    const first = gzipSync(
      `${JSON.stringify(header)}\n[0,"r",{"id":"a"}]\n[500,"h",{"nodeId":"a","seq":1,"load":0.9}]\n`,
    );
    const second = gzipSync('[1500,"h",{"nodeId":"a","seq":2,"load":0.9}]\n');
    const third = gzipSync('[2500,"h",{"nodeId":"a","seq":3,"load":0.9}]\n');
    // A flipped byte in the middle member, and the last one cut short.
    const damaged = Buffer.from(second);
    damaged[12] = (damaged[12] as number) ^ 0xff;
    const file = 'trace-000001.ndjson.gz';
    writeFileSync(
      join(dir, file),
      Buffer.concat([first, damaged, third.subarray(0, third.length - 6)]),
    );
    writeFileSync(
      join(dir, 'trace-000002.ndjson.gz'),
      gzipSync(
        `${JSON.stringify({ ...header, segment: 2 })}\n[3500,"h",{"nodeId":"a","seq":4,"load":0.9}]\n`,
      ),
    );

    const result = await replayTrace(dir, { policy: strict });
    expect(result.trace.damage).toEqual([
      { file, offset: first.length, bytes: damaged.length, problem: expect.any(String) },
      {
        file,
        offset: first.length + damaged.length,
        bytes: third.length - 6,
        problem: expect.any(String),
      },
    ]);
    expect(result.trace.skippedBytes).toBe(damaged.length + third.length - 6);
    expect(result.trace.entries).toBe(3);
    expect(new Set(result.differences.map((d) => d.nodeId))).toEqual(new Set(['a']));
    expect(result.differences[0]?.policy[0]?.what).toBe('isolate');
    const text = replayLines(result).join('\n');
    expect(text).toContain(`damaged: ${file} at byte ${first.length}`);
    expect(text).toContain(`skipped: ${result.trace.skippedBytes} bytes in 2 damaged parts`);
  });

  it('refuses a directory with no trace, or a trace of a newer format, with a coded error', async () => {
    const empty = freshDir();
    await expect(replayTrace(empty, { policy: strict })).rejects.toThrow(InvalidTraceError);
    const newer = freshDir();
    writeFileSync(
      join(newer, 'trace-000001.ndjson.gz'),
      gzipSync(`${JSON.stringify({ format: 'wyneos-trace', version: 99, segment: 1 })}\n`),
    );
    expect(() => readTrace(newer)).toThrow(/format version 99/);
    expect(readFileSync(join(newer, 'trace-000001.ndjson.gz')).length).toBeGreaterThan(0);
  });

  it('refuses a malformed --fail-if condition with its column', () => {
    const cases: Array<[string, number]> = [
      ['', 1],
      ['isolations >', 1],
      ['isolations > 0 || isolatoins > 0', 19],
      ['isolations > 0 && ', 18],
      ['policy.nope > 0', 1],
    ];
    for (const [text, column] of cases) {
      let thrown: unknown;
      try {
        parseCondition(text);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, text).toBeInstanceOf(InvalidConditionError);
      expect((thrown as InvalidConditionError).code).toBe('WYNEOS_ERR_INVALID_CONDITION');
      expect((thrown as InvalidConditionError).column, text).toBe(column);
    }
  });

  it('refuses a record option that is not { dir, maxBytes }', () => {
    expect(() => simulatedSupervisor({ record: { dir: '' } })).toThrow(/record.dir/);
    expect(() => simulatedSupervisor({ record: { dir: 'x', maxBytes: 0 } })).toThrow(
      /record.maxBytes/,
    );
  });
});
