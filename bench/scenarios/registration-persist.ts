import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  createSupervisor,
  type DurableState,
  FileAuditLog,
  type StateStore,
  type Supervisor,
} from 'wyneos';
import { syncDirectory, writeSynced } from '../../src/storage/durable.js';
import { generateFleet } from '../fleet.js';
import { measure, type ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';

const nodeCount = scaled(3_200, 200);
// The journal must register at least this many times faster than a whole rewrite per save.
const budget = 5;

/**
 * The hand-written reference: what the file state store did before its journal. Every save
 * writes the whole state to a temporary file, syncs it, renames it over `state.json` and syncs
 * the directory.
 */
class RewriteStore implements StateStore {
  constructor(private readonly dir: string) {}
  load(): DurableState | undefined {
    return undefined;
  }
  save(state: DurableState): void {
    const file = join(this.dir, 'state.json');
    writeSynced(`${file}.tmp`, Buffer.from(`${JSON.stringify(state)}\n`));
    renameSync(`${file}.tmp`, file);
    syncDirectory(this.dir);
  }
}

/**
 * Registrations per second, one at a time, into a supervisor that already holds 3,200 nodes and
 * keeps its state on disk: `stateDir` (the journal: one appended line and one fsync per save)
 * against the whole-rewrite reference, each with its audit log in the same directory. Every
 * registration is durable before it returns, on both sides.
 */
export async function registrationPersist(): Promise<ScenarioResult> {
  const nodes = generateFleet(nodeCount);
  const dirs: string[] = [];
  const fleet = (storage: (dir: string) => object): { sup: Supervisor; next: () => void } => {
    const dir = mkdtempSync(join(tmpdir(), 'wyneos-bench-persist-'));
    dirs.push(dir);
    const sup = createSupervisor({ logger: pino({ level: 'silent' }), ...storage(dir) });
    sup.registerMany(nodes.map((n) => ({ id: n.id, labels: n.labels })));
    let added = 0;
    return { sup, next: () => sup.register({ id: `added-${++added}`, labels: { zone: 'a' } }) };
  };
  const journal = fleet((dir) => ({ stateDir: dir }));
  const rewrite = fleet((dir) => ({
    stateStore: new RewriteStore(dir),
    auditLog: new FileAuditLog(dir),
  }));
  const [journalled, rewritten] = await measure(
    [
      { label: `stateDir (journal), ${nodeCount} nodes`, evaluations: 1, fn: journal.next },
      { label: `whole rewrite per save, ${nodeCount} nodes`, evaluations: 1, fn: rewrite.next },
    ],
    { time: 3_000, iterations: 30, warmupTime: 300, warmupIterations: 5 },
  );
  await journal.sup.stop();
  await rewrite.sup.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (!journalled || !rewritten) throw new Error('a task is missing');
  const ratio = journalled.evaluationsPerSecond / rewritten.evaluationsPerSecond;
  return {
    name: 'registration-persist',
    ratioOf: 'journalled registrations/s ÷ whole-rewrite registrations/s',
    figures: [journalled, rewritten],
    ratio,
    budget: { kind: 'at least', value: budget },
    meets: ratio >= budget,
    derived: [
      { label: 'journalled registrations/s', value: journalled.evaluationsPerSecond, unit: '/s' },
      { label: 'whole-rewrite registrations/s', value: rewritten.evaluationsPerSecond, unit: '/s' },
    ],
  };
}
