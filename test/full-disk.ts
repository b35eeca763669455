import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A disk that really fills: after `fill()` the next write in `dir` fails with ENOSPC. */
export interface FullDisk {
  /** A directory on the disk, not yet created. */
  readonly dir: string;
  fill(): void;
  free(): void;
  /** Unmounts and removes it all; whatever still has a file open there must be gone first. */
  remove(): void;
}

/**
 * A 64 KiB tmpfs of its own, or undefined where mounting is not allowed (it needs root with
 * CAP_SYS_ADMIN, which CI has). A link to /dev/full would not do: the state journal is read
 * back as well as written, and /dev/full reads as an endless run of zeros.
 */
export function tinyDisk(): FullDisk | undefined {
  const base = mkdtempSync(join(tmpdir(), 'wyneos-disk-'));
  const mountPoint = join(base, 'tmpfs');
  mkdirSync(mountPoint);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
  if (mounted.status !== 0) {
    rmSync(base, { recursive: true, force: true });
    return undefined;
  }
  const filler = join(mountPoint, 'filler');
  return {
    dir: join(mountPoint, 'state'),
    fill() {
      const fd = openSync(filler, 'a');
      try {
        // Pages first, then single bytes: not a byte is left for anyone else.
        for (const size of [4096, 1]) {
          const chunk = Buffer.alloc(size, 1);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free: () => unlinkSync(filler),
    remove() {
      spawnSync('umount', [mountPoint]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
