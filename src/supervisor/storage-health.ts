import type { Clock } from '../clock.js';
import { StorageDegradedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import type { StorageStatus } from './types.js';

/** @internal How often a degraded supervisor tries its writes again: doubling, capped. */
export const storageRetry = { baseMs: 1000, maxMs: 30_000 } as const;

interface Episode {
  readonly since: number;
  error: string;
  retries: number;
  retryAt: number;
  // The newest commit that failed: only a retry committed after it proves the storage works.
  lastFailed: number;
}

/**
 * Whether the state store and the audit log take writes. The first failed write starts an
 * episode: the supervisor turns read-only (changes are refused) and retries on its own clock
 * with a doubling backoff; a retry whose writes all land ends it. One log line each way, not
 * one per tick: a full disk would otherwise fill the log that tells about it.
 */
export class StorageHealth {
  private episode: Episode | undefined;
  private failures = 0;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get degraded(): boolean {
    return this.episode !== undefined;
  }

  /** Whether to write now: always while healthy; while degraded, once the backoff has passed. */
  due(): boolean {
    return this.episode === undefined || this.clock.now() >= this.episode.retryAt;
  }

  /** A write of commit `commit` failed; `retry` says whether that commit was a retry. */
  failed(error: unknown, commit: number, retry: boolean): void {
    this.failures++;
    const message = thrownMessage(error);
    const now = this.clock.now();
    if (this.episode === undefined) {
      this.episode = {
        since: now,
        error: message,
        retries: 0,
        retryAt: now + storageRetry.baseMs,
        lastFailed: commit,
      };
      this.log.error(
        { error: message, retryInMs: storageRetry.baseMs },
        'storage degraded: a durable write failed; refusing changes and retrying until it works',
      );
      return;
    }
    const episode = this.episode;
    episode.error = message;
    episode.lastFailed = Math.max(episode.lastFailed, commit);
    if (!retry) return;
    episode.retries++;
    const delay = Math.min(storageRetry.baseMs * 2 ** episode.retries, storageRetry.maxMs);
    episode.retryAt = now + delay;
    this.log.debug({ error: message, retryInMs: delay }, 'storage retry failed');
  }

  /** Every write of commit `commit` landed. */
  succeeded(commit: number, retry: boolean): void {
    const episode = this.episode;
    if (episode === undefined || !retry || commit <= episode.lastFailed) return;
    this.episode = undefined;
    this.log.info(
      { degradedMs: this.clock.now() - episode.since, retries: episode.retries + 1 },
      'storage recovered: state saved and audit log flushed; changes accepted again',
    );
  }

  /** Throws StorageDegradedError while degraded: called before a change touches anything. */
  assertWritable(operation: string): void {
    if (this.episode !== undefined) throw this.refusal(operation, false);
  }

  /** The error for an operation refused (or, with `applied`, whose own write failed). */
  refusal(operation: string, applied: boolean): StorageDegradedError {
    const episode = this.episode;
    const retryAfterMs = Math.max(0, (episode?.retryAt ?? 0) - this.clock.now());
    return new StorageDegradedError(
      operation,
      episode?.error ?? 'a write failed',
      retryAfterMs,
      applied,
    );
  }

  status(): StorageStatus {
    const episode = this.episode;
    return {
      degraded: episode !== undefined,
      since: episode?.since ?? null,
      error: episode?.error ?? null,
      retryAt: episode?.retryAt ?? null,
      failedWrites: this.failures,
    };
  }
}
