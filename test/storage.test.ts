import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StateCorruptError, StateVersionError, StorageError } from 'wyneos';
import {
  type AuditRecord,
  type DurableState,
  FileAuditLog,
  FileStateStore,
  MemoryAuditLog,
  MemoryStateStore,
} from '../src/storage/index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'wyneos-storage-'));
}

function state(savedAt: number, reason = 'quarantine'): DurableState {
  return {
    format: 'wyneos-state',
    version: 1,
    savedAt,
    boots: 1,
    policyVersion: 'v1',
    nodes: [
      {
        id: 'node-17',
        labels: { zone: 'eu-1' },
        version: '1.4.0',
        registeredAt: 0,
        state: 'isolated',
        since: savedAt,
        reason,
        isolations: 2,
        reinstateAt: savedAt + 30_000,
        probationUntil: null,
        escalation: 1,
        seq: 41,
      },
    ],
    overrides: { protected: ['node-1'], pinned: [] },
    exemptions: [
      {
        id: 'ex-1',
        ruleId: 'min-version',
        selector: { zone: ['eu-1', 'eu-2'] },
        until: 9e12,
        reason: 'rollout',
      },
    ],
  };
}

/** Records what a store or log reports on its own. */
function notices() {
  const messages: string[] = [];
  return { messages, onNotice: (message: string) => messages.push(message) };
}

function entry(n: number, nodeId = `node-${n % 3}`): Omit<AuditRecord, 'v' | 'seq'> {
  return {
    at: 1000 * n,
    type: 'transition',
    nodeId,
    data: { from: 'online', to: 'offline', reason: `r${n}` },
  };
}

describe('storage', () => {
  describe('FileStateStore', () => {
    it('loads nothing before the first save, and what was saved after it, creating the directory', () => {
      const dir = join(tempDir(), 'nested', 'data');
      const store = new FileStateStore(dir);
      expect(store.load()).toBeUndefined();
      store.save(state(1000));
      expect(new FileStateStore(dir).load()).toEqual(state(1000));
      expect(readdirSync(dir).sort()).toEqual(['state.json']);
    });

    it('keeps the snapshot before the last compaction as the last good copy', () => {
      const dir = tempDir();
      // A store that has not loaded writes a whole snapshot (a compaction), as each start does.
      new FileStateStore(dir).save(state(1000, 'first'));
      new FileStateStore(dir).save(state(2000, 'second'));
      new FileStateStore(dir).save(state(3000, 'third'));
      expect(JSON.parse(readFileSync(join(dir, 'state.prev.json'), 'utf8'))).toEqual({
        ...state(2000, 'second'),
        journal: 0,
      });
      expect(readdirSync(dir).sort()).toEqual(['state.json', 'state.prev.json']);
    });

    it('loads the old or the new state whatever step of a save a crash interrupts', () => {
      const old = `${JSON.stringify(state(1000, 'old'))}\n`;
      const next = `${JSON.stringify(state(2000, 'new'))}\n`;
      const older = `${JSON.stringify(state(500, 'older'))}\n`;
      // The files a crash leaves after each step of save(): tmp written in part, tmp synced,
      // previous copy unlinked, previous copy linked, tmp renamed.
      const crashPoints: Record<string, string>[] = [
        { 'state.json': old, 'state.prev.json': older, 'state.json.tmp': next.slice(0, 40) },
        { 'state.json': old, 'state.prev.json': older, 'state.json.tmp': next },
        { 'state.json': old, 'state.json.tmp': next },
        { 'state.json': old, 'state.prev.json': old, 'state.json.tmp': next },
        { 'state.json': next, 'state.prev.json': old },
      ];
      const loaded = crashPoints.map((files) => {
        const dir = tempDir();
        for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
        const result = new FileStateStore(dir, { onNotice: () => {} }).load()?.nodes[0]?.reason;
        expect(existsSync(join(dir, 'state.json.tmp'))).toBe(false);
        return result;
      });
      expect(loaded).toEqual(['old', 'old', 'old', 'old', 'new']);
    });

    it('reports the leftover temporary file it removes', () => {
      const dir = tempDir();
      new FileStateStore(dir).save(state(1000));
      writeFileSync(join(dir, 'state.json.tmp'), '{"format":"wyn');
      const { messages, onNotice } = notices();
      new FileStateStore(dir, { onNotice }).load();
      expect(messages).toEqual([expect.stringContaining(join(dir, 'state.json.tmp'))]);
    });

    it('refuses a truncated state file with an error that names the file and --recover', () => {
      const dir = tempDir();
      const store = new FileStateStore(dir);
      store.save(state(1000));
      store.save(state(2000));
      const file = join(dir, 'state.json');
      truncateSync(file, 50);
      const error = catchError(() => new FileStateStore(dir).load());
      expect(error).toBeInstanceOf(StateCorruptError);
      expect(error).toMatchObject({ code: 'WYNEOS_ERR_STATE_CORRUPT', file });
      expect((error as Error).message).toContain(`State file ${file} is not valid JSON`);
      expect((error as Error).message).toContain('--recover');
    });

    it('refuses a state file of the wrong shape, naming the field', () => {
      const dir = tempDir();
      const bad = { ...state(1000), nodes: [{ ...state(1000).nodes[0], state: 'asleep' }] };
      writeFileSync(join(dir, 'state.json'), JSON.stringify(bad));
      expect(() => new FileStateStore(dir).load()).toThrow(/is invalid at \/nodes\/0\/state/);
      writeFileSync(join(dir, 'state.json'), JSON.stringify({ nodes: [] }));
      expect(() => new FileStateStore(dir).load()).toThrow(/is not a wyneos state file/);
      writeFileSync(join(dir, 'state.json'), '');
      expect(() => new FileStateStore(dir).load()).toThrow(/is empty/);
    });

    it('recovers from the last good copy when asked, says so, and keeps the corrupt file aside', () => {
      const dir = tempDir();
      new FileStateStore(dir).save(state(1000, 'good'));
      new FileStateStore(dir).save(state(2000, 'lost'));
      writeFileSync(join(dir, 'state.json'), '{"format":"wyneos-state","vers');
      const { messages, onNotice } = notices();
      const recovering = new FileStateStore(dir, { recover: true, onNotice });
      expect(recovering.load()).toEqual(state(1000, 'good'));
      expect(messages[0]).toMatch(/recovering from the last good copy .*state\.prev\.json/);
      recovering.save(state(3000, 'after'));
      // The corrupt file never becomes the "last good copy": it is kept aside instead.
      expect(new FileStateStore(dir).load()).toEqual(state(3000, 'after'));
      expect(readFileSync(join(dir, 'state.prev.json'), 'utf8')).toContain('"good"');
      expect(readFileSync(join(dir, 'state.corrupt.json'), 'utf8')).toBe(
        '{"format":"wyneos-state","vers',
      );
    });

    it('names both files when the last good copy is unusable too', () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'state.json'), '{"format":');
      writeFileSync(join(dir, 'state.prev.json'), '[]');
      const error = catchError(() => new FileStateStore(dir, { recover: true }).load());
      expect(error).toBeInstanceOf(StateCorruptError);
      expect((error as Error).message).toContain(join(dir, 'state.json'));
      expect((error as Error).message).toContain(`${join(dir, 'state.prev.json')} is not a wyneos`);
    });

    it('treats a missing state file beside a last good copy as corrupt, not as a first start', () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'state.prev.json'), JSON.stringify(state(1000)));
      expect(() => new FileStateStore(dir).load()).toThrow(/is missing, but the last good copy/);
      expect(new FileStateStore(dir, { recover: true, onNotice: () => {} }).load()).toEqual(
        state(1000),
      );
    });

    it('refuses a state written in a newer format version, even when recovering', () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...state(1000), version: 2 }));
      writeFileSync(join(dir, 'state.prev.json'), JSON.stringify(state(500)));
      const error = catchError(() => new FileStateStore(dir, { recover: true }).load());
      expect(error).toBeInstanceOf(StateVersionError);
      expect(error).toMatchObject({ code: 'WYNEOS_ERR_STATE_VERSION', version: 2, supported: 1 });
      expect((error as Error).message).toMatch(/format version 2.*reads versions up to 1/);
    });

    it('refuses to save a state it could not load again, and writes nothing', () => {
      const dir = tempDir();
      const store = new FileStateStore(dir);
      store.save(state(1000));
      expect(() => store.save({ ...state(2000), savedAt: Number.NaN })).toThrow(
        InvalidArgumentError,
      );
      expect(store.load()).toEqual(state(1000));
    });
  });

  describe('MemoryStateStore', () => {
    it('keeps a copy of what was saved, as a file would', () => {
      const store = new MemoryStateStore();
      expect(store.load()).toBeUndefined();
      const saved = state(1000);
      store.save(saved);
      (saved.nodes as DurableState['nodes'][number][]).length = 0;
      expect(store.load()).toEqual(state(1000));
      expect(store.load()).not.toBe(store.load());
      expect(() => store.save({ ...state(1), format: 'other' } as never)).toThrow(
        InvalidArgumentError,
      );
    });
  });

  describe('FileAuditLog', () => {
    it('numbers records from 1 and continues the numbering after a reopen', () => {
      const dir = tempDir();
      const log = new FileAuditLog(dir);
      expect(log.append(entry(1))).toMatchObject({ v: 1, seq: 1 });
      log.append(entry(2));
      log.close();
      const reopened = new FileAuditLog(dir);
      expect(reopened.append(entry(3)).seq).toBe(3);
      reopened.close();
      expect(new FileAuditLog(dir).read().map((r) => r.seq)).toEqual([1, 2, 3]);
    });

    it('writes appended records only when flushed, all at once', () => {
      const dir = tempDir();
      const file = join(dir, 'audit.jsonl');
      const log = new FileAuditLog(dir);
      log.append(entry(1));
      log.append(entry(2));
      expect(statSync(file).size).toBe(0);
      expect(log.read()).toEqual([]);
      log.flush();
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines.map((l) => (l === '' ? null : JSON.parse(l).seq))).toEqual([1, 2, null]);
      expect(log.read()).toEqual([
        { v: 1, seq: 1, ...entry(1) },
        { v: 1, seq: 2, ...entry(2) },
      ]);
      log.close();
    });

    it('rotates by size, keeps maxFiles rotated files, and reads what is kept oldest first', () => {
      const dir = tempDir();
      const log = new FileAuditLog(dir, { maxBytes: 300, maxFiles: 2 });
      for (let n = 1; n <= 20; n++) {
        log.append(entry(n));
        log.flush();
      }
      log.close();
      expect(readdirSync(dir).sort()).toEqual(['audit.1.jsonl', 'audit.2.jsonl', 'audit.jsonl']);
      for (const name of readdirSync(dir)) {
        expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(300);
      }
      const seqs = new FileAuditLog(dir).read().map((r) => r.seq);
      // The oldest records went with the dropped files; what is left is the newest, in order.
      expect(seqs.at(-1)).toBe(20);
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
      expect(seqs.length).toBeGreaterThan(3);
      expect(seqs.length).toBeLessThan(20);
    });

    it('continues the numbering from the newest rotated file when the live file is empty', () => {
      const dir = tempDir();
      const log = new FileAuditLog(dir, { maxBytes: 100 });
      log.append(entry(1));
      log.flush();
      log.append(entry(2));
      log.flush();
      log.close();
      // What a crash right after a rotation leaves: every record in rotated files, no live file.
      renameSync(join(dir, 'audit.1.jsonl'), join(dir, 'audit.2.jsonl'));
      renameSync(join(dir, 'audit.jsonl'), join(dir, 'audit.1.jsonl'));
      const reopened = new FileAuditLog(dir);
      expect(reopened.append(entry(3)).seq).toBe(3);
      reopened.close();
      expect(reopened.read().map((r) => r.seq)).toEqual([1, 2, 3]);
    });

    it('detects a torn last line on open, reports its file and byte offset, and truncates it', () => {
      const dir = tempDir();
      const file = join(dir, 'audit.jsonl');
      const log = new FileAuditLog(dir);
      log.append(entry(1));
      log.append(entry(2));
      log.close();
      const whole = statSync(file).size;
      const firstLine = readFileSync(file, 'utf8').indexOf('\n') + 1;
      truncateSync(file, whole - 7);
      const { messages, onNotice } = notices();
      const reopened = new FileAuditLog(dir, { onNotice });
      expect(messages).toEqual([
        `${file}: truncated a torn last line at byte ${firstLine} (${whole - 7 - firstLine} bytes, what a crash in the middle of a write leaves)`,
      ]);
      expect(statSync(file).size).toBe(firstLine);
      expect(reopened.read().map((r) => r.seq)).toEqual([1]);
      expect(reopened.append(entry(3)).seq).toBe(2);
      reopened.close();
    });

    it('treats a last line that is not a record as torn, even with its newline', () => {
      const dir = tempDir();
      const file = join(dir, 'audit.jsonl');
      const log = new FileAuditLog(dir);
      log.append(entry(1));
      log.close();
      const size = statSync(file).size;
      writeFileSync(file, '\0\0\0\0\n', { flag: 'a' });
      const { messages, onNotice } = notices();
      expect(new FileAuditLog(dir, { onNotice }).read()).toHaveLength(1);
      expect(messages).toEqual([
        expect.stringContaining(`truncated a torn last line at byte ${size}`),
      ]);
      expect(statSync(file).size).toBe(size);
    });

    it('skips and reports a damaged line in the middle, keeping the records after it', () => {
      const dir = tempDir();
      const file = join(dir, 'audit.jsonl');
      const log = new FileAuditLog(dir);
      log.append(entry(1));
      log.flush();
      const offset = statSync(file).size;
      writeFileSync(file, '{"not":"a record"}\n', { flag: 'a' });
      log.append(entry(2));
      log.close();
      const { messages, onNotice } = notices();
      expect(new FileAuditLog(dir, { onNotice }).read().map((r) => r.seq)).toEqual([1, 2]);
      expect(messages[0]).toContain(
        `${file}: skipped the line at byte ${offset}: not an audit record`,
      );
    });

    it('refuses a record JSON cannot hold, and appends after close', () => {
      const log = new FileAuditLog(tempDir());
      expect(() => log.append({ at: 1, type: 'operator', data: { n: 1n } })).toThrow(
        InvalidArgumentError,
      );
      expect(() => log.append({ at: Number.NaN, type: 'operator', data: {} })).toThrow(
        InvalidArgumentError,
      );
      expect(log.append({ at: 1, type: 'start', data: {} }).seq).toBe(1);
      log.close();
      log.close();
      expect(() => log.append({ at: 2, type: 'stop', data: {} })).toThrow(StorageError);
      expect(() => new FileAuditLog(tempDir(), { maxBytes: 0 })).toThrow(InvalidArgumentError);
    });
  });

  describe('MemoryAuditLog', () => {
    it('buffers until flushed and continues the numbering of the records it starts with', () => {
      const first = new MemoryAuditLog();
      first.append(entry(1));
      expect(first.pending).toBe(1);
      expect(first.read()).toEqual([]);
      first.flush();
      first.append(entry(2)); // lost in a "crash": never flushed
      expect(first.read()).toEqual([{ v: 1, seq: 1, ...entry(1) }]);
      const second = new MemoryAuditLog(first.read());
      expect(second.append(entry(3)).seq).toBe(2);
      second.close();
      expect(second.read().map((r) => r.seq)).toEqual([1, 2]);
      expect(second.flushes).toBe(1);
      expect(() => second.append(entry(4))).toThrow(StorageError);
    });
  });

  it('reads back exactly a prefix of the flushed records, in order, whatever crashes cut off', () => {
    type Op =
      | { kind: 'append'; count: number }
      | { kind: 'flush' }
      | { kind: 'reopen' }
      | { kind: 'crash'; cut: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('flush' as const) }),
      fc.record({ kind: fc.constant('reopen' as const) }),
      // Where a crash cuts the live file, as a fraction of its size.
      fc.record({
        kind: fc.constant('crash' as const),
        cut: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        fc.integer({ min: 150, max: 2000 }),
        (ops: Op[], maxBytes) => {
          const dir = tempDir();
          const file = join(dir, 'audit.jsonl');
          const { messages, onNotice } = notices();
          const open = () => new FileAuditLog(dir, { maxBytes, maxFiles: 1000, onNotice });
          let log = open();
          let flushed: AuditRecord[] = [];
          let pending: AuditRecord[] = [];
          let n = 0;
          for (const o of ops) {
            if (o.kind === 'append') {
              for (let i = 0; i < o.count; i++) pending.push(log.append(entry(++n)));
            } else if (o.kind === 'flush') {
              log.flush();
              flushed = [...flushed, ...pending];
              pending = [];
            } else if (o.kind === 'reopen') {
              log.close();
              flushed = [...flushed, ...pending];
              pending = [];
              log = open();
            } else {
              // The process dies in the middle of its last write: the file is cut at any byte.
              log.close();
              flushed = [...flushed, ...pending];
              pending = [];
              const bytes = readFileSync(file);
              const cut = Math.floor(o.cut * bytes.length);
              truncateSync(file, cut);
              const atLineEnd = cut === 0 || bytes[cut - 1] === 0x0a;
              const before = messages.length;
              log = open();
              const survivors = log.read();
              expect(survivors).toEqual(flushed.slice(0, survivors.length));
              expect(messages.length - before).toBe(atLineEnd ? 0 : 1);
              flushed = survivors;
            }
            expect(log.read()).toEqual(flushed);
          }
          log.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
