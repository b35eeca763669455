import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateCorruptError } from 'wyneos';
import { type DurableNode, type DurableState, FileStateStore } from '../src/storage/index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'wyneos-journal-'));
}

function node(id: string, extra: Partial<DurableNode> = {}): DurableNode {
  return {
    id,
    labels: { zone: 'eu-1' },
    registeredAt: 1000,
    state: 'online',
    since: 1000,
    reason: 'registered',
    isolations: 0,
    reinstateAt: null,
    probationUntil: null,
    escalation: 0,
    seq: -1,
    ...extra,
  };
}

function fleet(nodes: readonly DurableNode[], savedAt = 5000, boots = 1): DurableState {
  return {
    format: 'wyneos-state',
    version: 1,
    savedAt,
    boots,
    policyVersion: 'v1',
    nodes,
    overrides: { protected: [], pinned: [] },
    exemptions: [],
  };
}

/** A store that has loaded what is there, as a supervisor's does when it starts. */
function opened(dir: string, options: { compactBytes?: number } = {}) {
  const messages: string[] = [];
  const store = new FileStateStore(dir, { ...options, onNotice: (m) => messages.push(m) });
  store.load();
  return { store, messages };
}

const journalOf = (dir: string) => join(dir, 'state.journal.jsonl');
const lines = (dir: string) =>
  readFileSync(journalOf(dir), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('state journal', () => {
  it('appends each registration as one line and leaves the snapshot alone', () => {
    const dir = tempDir();
    const { store } = opened(dir);
    store.save(fleet([]));
    const snapshot = statSync(join(dir, 'state.json'));
    const nodes: DurableNode[] = [];
    for (let i = 0; i < 20; i++) {
      nodes.push(node(`node-${i}`));
      store.save(fleet([...nodes]));
    }
    expect(statSync(join(dir, 'state.json')).mtimeMs).toBe(snapshot.mtimeMs);
    const written = lines(dir);
    expect(written).toHaveLength(20);
    expect(written[3]).toEqual({ n: 4, at: 5000, put: [node('node-3')] });
    expect(new FileStateStore(dir).load()).toEqual(fleet(nodes));
  });

  it('journals lifecycle changes, deregistrations, meta changes and marks, and loads them back', () => {
    const dir = tempDir();
    const { store } = opened(dir);
    store.save(fleet([node('a'), node('b'), node('c')]));
    store.save(fleet([node('a', { state: 'isolated', isolations: 1 }), node('b'), node('c')]));
    store.save(fleet([node('a', { state: 'isolated', isolations: 1 }), node('c')], 6000, 2));
    store.saveMarks([
      ['c', 0, 41],
      ['gone', 0, 7],
    ]);
    store.save(fleet([node('a', { state: 'isolated', isolations: 1 }), node('c', { seq: 42 })]));
    // A mark behind what is saved moves nothing and writes nothing.
    store.saveMarks([['c', 0, 3]]);
    expect(lines(dir).map(({ n: _n, at: _at, ...rest }) => Object.keys(rest))).toEqual([
      ['put'],
      ['meta', 'del'],
      ['marks'],
      ['meta', 'marks'],
    ]);
    expect(lines(dir)[2]).toEqual({ n: 3, marks: [['c', 0, 41]] });
    expect(new FileStateStore(dir).load()).toEqual(
      fleet([node('a', { state: 'isolated', isolations: 1 }), node('c', { seq: 42 })], 5000, 1),
    );
  });

  it('orders marks by epoch, then seq: a new incarnation with a lower seq moves the mark', () => {
    const dir = tempDir();
    const { store } = opened(dir);
    store.save(fleet([node('a', { seq: 900 })]));
    store.saveMarks([['a', 5, 1]]);
    store.saveMarks([['a', 4, 2000]]);
    expect(new FileStateStore(dir).load()?.nodes[0]).toMatchObject({ seq: 1, epoch: 5 });
  });

  it('drops a torn last line with a notice, and appends after it cleanly', () => {
    const dir = tempDir();
    const { store } = opened(dir);
    store.save(fleet([]));
    store.save(fleet([node('a')]));
    store.save(fleet([node('a'), node('b')]));
    const size = statSync(journalOf(dir)).size;
    truncateSync(journalOf(dir), size - 5);
    const reopened = opened(dir);
    expect(reopened.messages).toEqual([expect.stringMatching(/dropped a torn last line/)]);
    reopened.store.save(fleet([node('a'), node('c')]));
    reopened.store.save(fleet([node('a'), node('c'), node('d')]));
    expect(new FileStateStore(dir).load()?.nodes.map((n) => n.id)).toEqual(['a', 'c', 'd']);
  });

  it('refuses a journal damaged before its last line, naming the file and the byte', () => {
    const dir = tempDir();
    const { store } = opened(dir);
    store.save(fleet([]));
    store.save(fleet([node('a')]));
    store.save(fleet([node('a'), node('b')]));
    const text = readFileSync(journalOf(dir), 'utf8');
    writeFileSync(
      journalOf(dir),
      `{"n":1,"put":[{"id":"a"}\n${text.slice(text.indexOf('\n') + 1)}`,
    );
    const error = catchError(() => new FileStateStore(dir).load());
    expect(error).toBeInstanceOf(StateCorruptError);
    expect((error as Error).message).toMatch(
      /state\.journal\.jsonl is damaged: the line at byte 0/,
    );
  });

  it('refuses a journal whose lines name values out of range, naming the field', () => {
    const dir = tempDir();
    const { store } = opened(dir);
    store.save(fleet([node('a')]));
    writeFileSync(
      journalOf(dir),
      `${JSON.stringify({ n: 1, put: [node('a', { isolations: 1e20 })] })}\n`,
    );
    expect(() => new FileStateStore(dir).load()).toThrow(/is invalid at \/nodes\/0\/isolations/);
  });

  it('compacts into a new snapshot once the journal outgrows it, and applies no line twice after a crash mid-compaction', () => {
    const dir = tempDir();
    const { store } = opened(dir, { compactBytes: 0 });
    store.save(fleet([]));
    const nodes: DurableNode[] = [];
    let crashed: string | undefined;
    for (let i = 0; i < 30; i++) {
      nodes.push(node(`node-${i}`));
      const before = statSync(journalOf(dir), { throwIfNoEntry: false })?.size ?? 0;
      const text = before > 0 ? readFileSync(journalOf(dir), 'utf8') : '';
      store.save(fleet([...nodes]));
      if (crashed === undefined && statSync(journalOf(dir)).size < before) {
        // What a crash between the snapshot's rename and the journal's emptying leaves: the
        // new snapshot, and the journal with the line of this save.
        const holds = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).journal as number;
        expect(holds).toBeGreaterThan(0);
        const line = { n: holds, at: 5000, put: [nodes.at(-1)] };
        crashed = tempDir();
        copyFileSync(join(dir, 'state.json'), join(crashed, 'state.json'));
        writeFileSync(journalOf(crashed), `${text}${JSON.stringify(line)}\n`);
        expect(new FileStateStore(crashed).load()).toEqual(fleet(nodes));
      }
    }
    expect(crashed).toBeDefined();
    expect(new FileStateStore(dir).load()).toEqual(fleet(nodes));
  });

  it('refuses a compaction threshold that is not a whole number of bytes', () => {
    for (const compactBytes of [-1, 1.5, Number.NaN]) {
      expect(() => new FileStateStore(tempDir(), { compactBytes })).toThrow(/compactBytes/);
    }
  });

  it('loads whatever was last saved, across any sequence of saves, marks and restarts', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('save' as const),
        present: fc.subarray(ids),
        state: fc.constantFrom('online', 'isolated', 'offline') as fc.Arbitrary<
          DurableNode['state']
        >,
        isolations: fc.nat(3),
        boots: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({
        kind: fc.constant('mark' as const),
        id: fc.constantFrom(...ids),
        epoch: fc.nat(2),
        seq: fc.nat(50),
      }),
      fc.record({ kind: fc.constant('restart' as const) }),
    );
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 25 }),
        fc.constantFrom(0, 300, 1 << 20),
        (steps, compactBytes) => {
          const dir = tempDir();
          let { store } = opened(dir, { compactBytes });
          let expected: DurableState | undefined;
          for (const s of steps) {
            if (s.kind === 'restart') {
              ({ store } = opened(dir, { compactBytes }));
              // A start saves at once, as the supervisor does.
              if (expected !== undefined) store.save(expected);
            } else if (s.kind === 'save') {
              // As a supervisor lists them: those kept in their order, then the new ones.
              const before = expected?.nodes ?? [];
              const kept = before.filter((n) => s.present.includes(n.id));
              const added = s.present.filter((id) => !before.some((n) => n.id === id));
              const nodes = [...kept, ...added.map((id) => node(id))].map((n) => ({
                ...n,
                state: s.state,
                isolations: s.isolations,
              }));
              expected = fleet(nodes, 5000, s.boots);
              store.save(expected);
            } else if (expected !== undefined) {
              store.saveMarks([[s.id, s.epoch, s.seq]]);
              expected = {
                ...expected,
                nodes: expected.nodes.map((n) => {
                  if (n.id !== s.id) return n;
                  const epoch = n.epoch ?? 0;
                  const after = s.epoch > epoch || (s.epoch === epoch && s.seq > n.seq);
                  return after
                    ? {
                        ...n,
                        seq: s.seq,
                        ...(s.epoch === 0 && n.epoch === undefined ? {} : { epoch: s.epoch }),
                      }
                    : n;
                }),
              };
            }
          }
          expect(new FileStateStore(dir).load()).toEqual(expected);
        },
      ),
      { numRuns: 40 },
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
