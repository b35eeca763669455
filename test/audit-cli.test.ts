import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'wyneos';
import { auditCommand, formatAuditLines } from '../src/cli/audit.js';
import { type AuditRecord, FileAuditLog, queryAudit } from '../src/storage/index.js';

const hour = 3_600_000;
const now = Date.UTC(2025, 0, 1, 12); // 2025-01-01T12:00:00Z

/** A state directory with a day of records, rotated over several files. */
function fleetLog(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-audit-'));
  const log = new FileAuditLog(dir, { maxBytes: 400, maxFiles: 100 });
  const write = (record: Omit<AuditRecord, 'v' | 'seq'>) => {
    log.append(record);
    log.flush();
  };
  write({ at: now - 24 * hour, type: 'start', data: { boots: 1, policyVersion: 'v1' } });
  write({ at: now - 20 * hour, type: 'admission', nodeId: 'node-17', data: { admitted: true } });
  write({
    at: now - 3 * hour,
    type: 'transition',
    nodeId: 'node-17',
    data: { from: 'online', to: 'offline', reason: 'no heartbeat for 3000 ms' },
  });
  write({
    at: now - 2 * hour,
    type: 'action',
    nodeId: 'node-17',
    data: {
      id: 'action-1.1',
      type: 'isolate',
      status: 'applied',
      origin: 'healing',
      reason: 'offline for 10 s',
    },
  });
  write({
    at: now - 2 * hour,
    type: 'transition',
    nodeId: 'node-17',
    data: { from: 'offline', to: 'isolated', reason: 'offline for 10 s' },
  });
  write({
    at: now - 30 * 60_000,
    type: 'action',
    nodeId: 'node-03',
    data: {
      id: 'action-1.2',
      type: 'isolate',
      status: 'held',
      heldBy: 'maxIsolatedFraction',
      reason: 'rule min-version',
    },
  });
  write({
    at: now - 10 * 60_000,
    type: 'action',
    nodeId: 'node-09',
    data: {
      id: 'action-1.3',
      type: 'reduce-load',
      status: 'applied',
      reason: 'load 0.97 for 3 ticks',
    },
  });
  write({
    at: now - 60_000,
    type: 'operator',
    nodeId: 'node-17',
    data: { command: 'pin', by: 'alice' },
  });
  log.close();
  return dir;
}

async function audit(args: string[]) {
  const lines: string[] = [];
  const notices: string[] = [];
  const command = auditCommand((l) => lines.push(l), {
    now: () => now,
    notice: (m) => notices.push(m),
  })
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await command.parseAsync(args, { from: 'user' });
  return { lines, notices };
}

describe('audit-cli', () => {
  it('prints every record newest first, one line each: time, type, node and a summary', async () => {
    const dir = fleetLog();
    expect(readdirSync(dir).filter((f) => /^audit\.\d+\.jsonl$/.test(f)).length).toBeGreaterThan(1);
    const { lines } = await audit(['--state-dir', dir]);
    expect(lines).toEqual([
      '2025-01-01T11:59:00.000Z  operator    node-17  command=pin by=alice',
      '2025-01-01T11:50:00.000Z  action      node-09  reduce-load applied: load 0.97 for 3 ticks',
      '2025-01-01T11:30:00.000Z  action      node-03  isolate held (held by maxIsolatedFraction): rule min-version',
      '2025-01-01T10:00:00.000Z  transition  node-17  offline → isolated: offline for 10 s',
      '2025-01-01T10:00:00.000Z  action      node-17  isolate applied: offline for 10 s',
      '2025-01-01T09:00:00.000Z  transition  node-17  online → offline: no heartbeat for 3000 ms',
      '2024-12-31T16:00:00.000Z  admission   node-17  admitted=true',
      '2024-12-31T12:00:00.000Z  start       -        boots=1 policyVersion=v1',
    ]);
  });

  it('names the actions an abandoned record says never took effect', () => {
    const record = (actions: string[]): AuditRecord => ({
      v: 1,
      seq: 1,
      at: now,
      type: 'abandoned',
      nodeId: 'node-17',
      data: { shard: 3, actions, reason: 'the lease lapsed' },
    });
    expect(formatAuditLines([record(['a-1.2', 'a-1.5']), record([])])).toEqual([
      '2025-01-01T12:00:00.000Z  abandoned  node-17  shard 3, dropped unwritten (a-1.2, a-1.5): the lease lapsed',
      '2025-01-01T12:00:00.000Z  abandoned  node-17  shard 3, dropped unwritten (no untold action): the lease lapsed',
    ]);
  });

  it('filters by node, by time, and by type or action type, and limits to the newest', async () => {
    const dir = fleetLog();
    const seqs = async (args: string[]) =>
      (await audit(['--state-dir', dir, '--json', ...args])).lines.map((l) => JSON.parse(l).seq);
    expect(await seqs(['--node', 'node-17'])).toEqual([8, 5, 4, 3, 2]);
    expect(await seqs(['--since', '1h'])).toEqual([8, 7, 6]);
    expect(await seqs(['--type', 'transition'])).toEqual([5, 3]);
    expect(await seqs(['--type', 'isolate'])).toEqual([6, 4]);
    expect(await seqs(['--type', 'action', '--node', 'node-17'])).toEqual([4]);
    expect(await seqs(['--since', '3h', '--limit', '2'])).toEqual([8, 7]);
  });

  it('prints one JSON record a line with --json, as written', async () => {
    const dir = fleetLog();
    const { lines } = await audit(['--state-dir', dir, '--json', '--limit', '1']);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        v: 1,
        seq: 8,
        at: now - 60_000,
        type: 'operator',
        nodeId: 'node-17',
        data: { command: 'pin', by: 'alice' },
      },
    ]);
  });

  it('says so when nothing matches', async () => {
    const dir = fleetLog();
    const { lines } = await audit(['--state-dir', dir, '--node', 'node-99']);
    expect(lines).toEqual([`No audit records in ${dir} match`]);
  });

  it('reports a torn last line and skips it without changing the file', async () => {
    const dir = fleetLog();
    const file = join(dir, 'audit.jsonl');
    const size = statSync(file).size;
    truncateSync(file, size - 5);
    const before = readFileSync(file);
    const { lines, notices } = await audit(['--state-dir', dir, '--json']);
    expect(lines.map((l) => JSON.parse(l).seq)[0]).toBeLessThan(8);
    expect(notices).toEqual([
      expect.stringMatching(/audit\.jsonl: skipped a torn last line at byte \d+/),
    ]);
    expect(readFileSync(file)).toEqual(before);
  });

  it('refuses a state directory that does not exist, and flags that are not what they should be', async () => {
    await expect(audit(['--state-dir', join(tmpdir(), 'wyneos-no-such-dir')])).rejects.toThrow(
      InvalidArgumentError,
    );
    const dir = fleetLog();
    await expect(audit(['--state-dir', dir, '--since', 'yesterday'])).rejects.toThrow(
      CommanderError,
    );
    await expect(audit(['--state-dir', dir, '--limit', '0'])).rejects.toThrow(CommanderError);
  });

  it('reads each record once when a rotation renames files while it reads', () => {
    const dir = fleetLog();
    // What a reader can see mid-rotation: the live file already copied as audit.1.jsonl, the
    // older files already shifted.
    const rotated = readdirSync(dir)
      .map((f) => /^audit\.(\d+)\.jsonl$/.exec(f)?.[1])
      .filter((n) => n !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
    for (const n of rotated)
      renameSync(join(dir, `audit.${n}.jsonl`), join(dir, `audit.${n + 1}.jsonl`));
    copyFileSync(join(dir, 'audit.jsonl'), join(dir, 'audit.1.jsonl'));
    expect(queryAudit(dir).map((r) => r.seq)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('reads the newest records first through the API too, stopping at the limit', () => {
    const dir = fleetLog();
    expect(queryAudit(dir, { type: 'isolate', limit: 1 }).map((r) => r.data.id)).toEqual([
      'action-1.2',
    ]);
    expect(queryAudit(join(dir, 'empty'))).toEqual([]);
    expect(() => queryAudit(dir, { limit: -1 })).toThrow(InvalidArgumentError);
  });
});
