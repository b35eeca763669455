import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A state directory on a small tmpfs, so a full disk is a real ENOSPC. Mounting needs root
 * (CI runs as root); elsewhere `fill` is unavailable and the test says so instead.
 */
export interface Disk {
  readonly dir: string;
  /** Why a full disk cannot be made here; undefined when it can. */
  readonly unavailable: string | undefined;
  /** Fills the file system to the last byte; returns the bytes written. */
  fill(): number;
  free(): void;
  release(): void;
}

const filler = '.chaos-filler';

/** Mounts still to undo, for a test that ends before its own clean-up could run. */
export const mounted = new Set<string>();

export function unmount(dir: string): void {
  mounted.delete(dir);
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // Nothing mounted any more.
  }
}

export function mountDisk(dir: string, size = '2m'): Disk {
  mkdirSync(dir, { recursive: true });
  let unavailable: string | undefined;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    mounted.add(dir);
  } catch (error) {
    unavailable = `cannot mount a tmpfs (${String((error as Error).message).split('\n')[0]})`;
  }
  const fillerPath = join(dir, filler);
  return {
    dir,
    unavailable,
    fill() {
      const fd = openSync(fillerPath, 'a');
      let written = 0;
      try {
        // Big blocks first, then smaller ones, until not one byte fits.
        for (let block = 64 * 1024; block >= 1; ) {
          try {
            written += writeSync(fd, Buffer.alloc(block));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
            block = Math.floor(block / 4);
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(fillerPath, { force: true });
    },
    release() {
      if (unavailable === undefined) unmount(dir);
    },
  };
}

const libraries = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

/**
 * The server's wall clock, moved by libfaketime preloaded into the server alone. Only
 * CLOCK_REALTIME moves (DONT_FAKE_MONOTONIC): a jump is what an NTP step or an operator's
 * `date -s` does to a running process. The offset lives in a file read at most once a second,
 * so it can change while the server runs, and a restarted server keeps it.
 */
export interface WallClock {
  readonly unavailable: string | undefined;
  /** Environment for the server process. */
  readonly env: Record<string, string>;
  /** The offset from real time now, in hours. */
  readonly offsetHours: number;
  set(hours: number): void;
}

export function wallClock(dir: string): WallClock {
  const library = libraries.find((path) => existsSync(path));
  const file = join(dir, 'faketime');
  let offsetHours = 0;
  const write = (hours: number) => {
    offsetHours = hours;
    // libfaketime's relative form: "+3h", "-2h".
    const fd = openSync(file, 'w');
    writeSync(fd, `${hours >= 0 ? '+' : ''}${hours}h\n`);
    closeSync(fd);
  };
  write(0);
  return {
    unavailable:
      library === undefined ? 'libfaketime is not installed (.ci/install-faketime)' : undefined,
    env:
      library === undefined
        ? {}
        : {
            LD_PRELOAD: library,
            FAKETIME_TIMESTAMP_FILE: file,
            FAKETIME_CACHE_DURATION: '1',
            DONT_FAKE_MONOTONIC: '1',
          },
    get offsetHours() {
      return offsetHours;
    },
    set: write,
  };
}
