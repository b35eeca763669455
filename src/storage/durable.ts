import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { StorageError } from '../errors.js';
import { thrownMessage } from '../show.js';
import { isCode } from './layout.js';

/** @internal A StorageError that says what was being done to which file, and why it failed. */
export function storageError(file: string, doing: string, error: unknown): StorageError {
  return new StorageError(file, `Cannot ${doing} ${file}: ${thrownMessage(error)}`, {
    cause: error,
  });
}

/** @internal Writes every byte: `writeSync` may write fewer than asked (a full disk, a signal). */
export function writeAll(fd: number, data: Uint8Array): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written);
}

/** @internal Creates or replaces `file` with `data` and syncs it: on disk when this returns. */
export function writeSynced(file: string, data: Uint8Array): void {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'w');
    writeAll(fd, data);
    fsyncSync(fd);
  } catch (error) {
    throw storageError(file, 'write', error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * @internal Syncs a directory, so the renames and links in it survive a power loss (a rename
 * is durable only once its directory is).
 */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Windows cannot open or sync a directory (EPERM, EISDIR); there, NTFS orders metadata
    // itself, and nothing better is available.
    if (isCode(error, 'EPERM') || isCode(error, 'EISDIR') || isCode(error, 'EINVAL')) return;
    throw storageError(dir, 'sync the directory', error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
