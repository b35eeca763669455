import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../errors.js';
import { thrownMessage } from '../show.js';

/** Where `wyneos serve` and `wyneos audit` keep their files unless told otherwise. */
export const defaultStateDir = './wyneos-data';

/** @internal The names of the files in a state directory, spelled once. */
export const fileNames = {
  state: 'state.json',
  statePrevious: 'state.prev.json',
  stateTemporary: 'state.json.tmp',
  // What changed since state.json was written, one line per commit (src/storage/state-journal.ts).
  stateJournal: 'state.journal.jsonl',
  // Where a corrupt state file is moved when a recovered supervisor first saves, for inspection.
  stateCorrupt: 'state.corrupt.json',
  audit: 'audit.jsonl',
  // Held by the one supervisor writing the directory.
  lock: 'wyneos.lock',
} as const;

/** @internal `audit.<n>.jsonl`: the n-th newest rotated audit file. */
export function rotatedAuditName(n: number): string {
  return `audit.${n}.jsonl`;
}

const rotatedPattern = /^audit\.([1-9]\d*)\.jsonl$/;

/**
 * @internal The rotated audit files in `dir`, newest first (by number, not by mtime, which a
 * copy or restore can change). Gaps are allowed: a crash between two renames of a rotation
 * leaves one, and nothing is lost by it.
 */
export function rotatedAuditFiles(dir: string): { n: number; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return [];
    throw new StorageError(dir, `Cannot list the state directory ${dir}: ${thrownMessage(error)}`, {
      cause: error,
    });
  }
  const files: { n: number; path: string }[] = [];
  for (const name of names) {
    const match = rotatedPattern.exec(name);
    if (match) files.push({ n: Number(match[1]), path: join(dir, name) });
  }
  return files.sort((a, b) => a.n - b.n);
}

/** @internal Whether a thrown value is a system error with this `code` (ENOENT, ...). */
export function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
