import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StateLockedError, type StateLockHolder } from '../errors.js';
import { storageError, writeAll } from './durable.js';
import { fileNames, isCode } from './layout.js';

/** @internal What a lock file holds: its holder, and a token only that holder knows. */
interface LockFile extends StateLockHolder {
  readonly token: string;
}

/** A held lock on a state directory. */
export interface StateLock {
  readonly file: string;
  /** Removes the lock file if it is still this holder's; idempotent. */
  release(): void;
}

// Tokens of the locks this process holds: a lock naming our own pid but none of these was left
// by an earlier process that had the same pid (a restarted container is often pid 1 again).
const heldHere = new Set<string>();

/**
 * Takes the exclusive lock of a state directory: `wyneos.lock`, created with O_EXCL,
 * holding the holder's pid, host and start time. Two supervisors writing one directory would
 * each overwrite the other's state, and the last writer would win.
 *
 * A lock whose holder is known dead (this host, and no process has its pid) is stale: it is
 * reported through `notice` and taken over. Anything else throws StateLockedError, naming the
 * holder; a lock held on another host cannot be checked from here, so it is never taken over.
 */
export function acquireStateLock(dir: string, notice: (message: string) => void): StateLock {
  const file = join(dir, fileNames.lock);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw storageError(dir, 'create the state directory', error);
  }
  const mine: LockFile = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    token: randomUUID(),
  };
  // Twice at most: once more after removing a stale lock. Losing that race to another process
  // taking the same stale lock ends in a refusal naming the winner.
  for (let attempt = 0; ; attempt++) {
    if (create(file, mine)) break;
    const holder = readHolder(file);
    const stale = holder === undefined ? undefined : staleness(holder);
    if (holder === undefined || stale === undefined || attempt > 0) {
      throw new StateLockedError(file, holder, refusal(file, dir, holder));
    }
    notice(
      `Took over the lock ${file}: its holder, pid ${holder.pid} on ${holder.host} (started ${holder.startedAt}), ${stale}`,
    );
    try {
      unlinkSync(file);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw storageError(file, 'remove the stale lock', error);
    }
  }
  heldHere.add(mine.token);
  let held = true;
  return {
    file,
    release() {
      if (!held) return;
      held = false;
      heldHere.delete(mine.token);
      // Someone may have removed our lock by hand and another supervisor taken the directory:
      // only our own lock file is ours to remove.
      if (readHolder(file)?.token !== mine.token) return;
      try {
        unlinkSync(file);
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw storageError(file, 'remove the lock', error);
      }
    },
  };
}

// True when the lock file was created (and written), false when one exists already.
function create(file: string, lock: LockFile): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if (isCode(error, 'EEXIST')) return false;
    throw storageError(file, 'create the lock', error);
  }
  try {
    writeAll(fd, Buffer.from(`${JSON.stringify(lock)}\n`));
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    try {
      // An empty lock would block every later start: take it away again.
      unlinkSync(file);
    } catch {
      // Reported as the write's failure below; a lock left empty is refused with its path.
    }
    throw storageError(file, 'write the lock', error);
  }
  closeSync(fd);
  return true;
}

function readHolder(file: string): LockFile | undefined {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockFile>;
    if (
      typeof raw.pid === 'number' &&
      Number.isSafeInteger(raw.pid) &&
      raw.pid > 0 &&
      typeof raw.host === 'string' &&
      typeof raw.startedAt === 'string' &&
      typeof raw.token === 'string'
    ) {
      return raw as LockFile;
    }
  } catch {
    // Unreadable or not JSON: reported as an unknown holder by the caller.
  }
  return undefined;
}

// Why the holder is known to be gone, or undefined when it may still be running.
function staleness(holder: LockFile): string | undefined {
  if (holder.host !== hostname()) return undefined;
  if (holder.pid === process.pid) {
    return heldHere.has(holder.token) ? undefined : 'was an earlier process with our pid';
  }
  try {
    process.kill(holder.pid, 0);
    return undefined;
  } catch (error) {
    // EPERM: the process exists, owned by another user.
    return isCode(error, 'ESRCH') ? 'is no longer running' : undefined;
  }
}

function refusal(file: string, dir: string, holder: LockFile | undefined): string {
  if (holder === undefined) {
    return `${file} exists but does not say who holds it; if no supervisor uses ${dir}, remove it`;
  }
  const remote = holder.host !== hostname();
  return `${dir} is in use by pid ${holder.pid} on ${holder.host} (started ${holder.startedAt})${
    remote ? `; if that supervisor is gone, remove ${file}` : ''
  }`;
}
