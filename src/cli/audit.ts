import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError as InvalidFlagError } from 'commander';
import { parseDuration } from '../duration.js';
import { InvalidArgumentError, WyneosError } from '../errors.js';
import {
  type AuditQuery,
  type AuditRecord,
  defaultStateDir,
  queryAudit,
} from '../storage/index.js';

/** What `wyneos audit` needs from outside besides its flags; tests replace both. */
export interface AuditCommandIo {
  /** The time `--since` counts back from. Default: `Date.now`. */
  readonly now?: () => number;
  /** Where damaged lines are reported. Default: standard error, so `--json` output stays clean. */
  readonly notice?: (message: string) => void;
}

interface AuditFlags {
  readonly stateDir: string;
  readonly node?: string;
  readonly since?: number;
  readonly type?: string;
  readonly limit?: number;
  readonly json?: boolean;
}

/**
 * `wyneos audit`: the audit log of a state directory, newest first, one record a line, with
 * filters. `write` receives every line the command prints.
 */
export function auditCommand(write: (line: string) => void, io: AuditCommandIo = {}): Command {
  const now = io.now ?? Date.now;
  const notice =
    io.notice ?? ((message: string) => process.stderr.write(`wyneos audit: ${message}\n`));
  return new Command('audit')
    .description('Read the audit log: transitions, actions, operator commands, newest first.')
    .option('--state-dir <dir>', 'the state directory of the supervisor', defaultStateDir)
    .option('--node <id>', 'only records about this node')
    .option('--since <duration>', 'only records from the last <duration> (30m, 1h, 7d)', duration)
    .option(
      '--type <type>',
      'only records of this type (transition, action, ...) or action type (isolate, ...)',
    )
    .option('--limit <count>', 'at most this many records, the newest', wholeNumber)
    .option('--json', 'one JSON record a line')
    .action((flags: AuditFlags) => {
      // A mistyped directory would otherwise look like an empty log.
      if (!existsSync(flags.stateDir)) {
        throw new InvalidArgumentError('--state-dir', `${flags.stateDir} does not exist`);
      }
      const query: AuditQuery = {
        ...(flags.node === undefined ? {} : { nodeId: flags.node }),
        ...(flags.since === undefined ? {} : { since: now() - flags.since }),
        ...(flags.type === undefined ? {} : { type: flags.type }),
        ...(flags.limit === undefined ? {} : { limit: flags.limit }),
      };
      const records = queryAudit(flags.stateDir, query, { onNotice: notice });
      if (flags.json) {
        for (const record of records) write(JSON.stringify(record));
      } else if (records.length === 0) {
        write(
          `No audit records in ${flags.stateDir}${Object.keys(query).length > 0 ? ' match' : ''}`,
        );
      } else {
        for (const line of formatAuditLines(records)) write(line);
      }
    });
}

/** One line per record: time, type, node and a summary, with the type and node columns aligned. */
export function formatAuditLines(records: readonly AuditRecord[]): string[] {
  // A loop, not Math.max(...): a long log would pass more arguments than a call can take.
  let typeWidth = 0;
  let nodeWidth = 0;
  for (const record of records) {
    typeWidth = Math.max(typeWidth, record.type.length);
    nodeWidth = Math.min(24, Math.max(nodeWidth, (record.nodeId ?? '-').length));
  }
  return records.map((record) =>
    [
      time(record.at),
      record.type.padEnd(typeWidth),
      (record.nodeId ?? '-').padEnd(nodeWidth),
      summary(record),
    ].join('  '),
  );
}

function summary(record: AuditRecord): string {
  const data = record.data;
  const reason = typeof data.reason === 'string' ? `: ${data.reason}` : '';
  if (
    record.type === 'transition' &&
    typeof data.from === 'string' &&
    typeof data.to === 'string'
  ) {
    return `${data.from} → ${data.to}${reason}`;
  }
  if (record.type === 'action' && typeof data.type === 'string') {
    const status = typeof data.status === 'string' ? ` ${data.status}` : '';
    const heldBy = typeof data.heldBy === 'string' ? ` (held by ${data.heldBy})` : '';
    const error = typeof data.error === 'string' ? ` (error: ${data.error})` : '';
    return `${data.type}${status}${heldBy}${error}${reason}`;
  }
  if (record.type === 'abandoned' && Array.isArray(data.actions)) {
    // The actions it names are what a reader looks for: they never took effect.
    const actions = data.actions.length === 0 ? 'no untold action' : data.actions.join(', ');
    return `shard ${String(data.shard)}, dropped unwritten (${actions})${reason}`;
  }
  // Other records (admission, operator, policy, ...) carry their own fields: show the plain
  // ones, so a new kind of record is readable without a formatter of its own.
  const fields = Object.entries(data)
    .filter(([, value]) => value === null || typeof value !== 'object')
    .map(
      ([key, value]) =>
        `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`,
    )
    .join(' ');
  return fields.length > 160 ? `${fields.slice(0, 159)}…` : fields;
}

function time(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

function duration(value: string): number {
  try {
    return parseDuration(value, '--since');
  } catch (error) {
    if (error instanceof WyneosError) throw new InvalidFlagError(error.message);
    throw error;
  }
}

function wholeNumber(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidFlagError('expected a whole number of at least 1.');
  }
  return number;
}
