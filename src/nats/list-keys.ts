import type { KV } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/nats-core';
import type { Clock } from '../clock.js';

/** Keys listed before a deadline, and whether the listing finished. */
export interface Listed {
  readonly keys: string[];
  readonly complete: boolean;
}

/**
 * Lists a bucket's keys under `filter`, giving up after `deadlineMs` on `clock`: the listing (an
 * ordered consumer) has been seen running for minutes under load, and whoever waits for it (a
 * lease scan, a takeover) blocks everything queued behind it. Past the deadline the iterator
 * is stopped and the keys listed so far are returned, `complete` false.
 */
export async function listKeys(
  kv: KV,
  filter: string,
  deadlineMs: number,
  clock: Clock,
): Promise<Listed> {
  const keys: string[] = [];
  let iterator: QueuedIterator<string> | undefined;
  let late = false;
  const listing = (async () => {
    const listed = await kv.keys(filter);
    iterator = listed;
    if (late) listed.stop();
    for await (const key of listed) if (!late) keys.push(key);
  })();
  let timer: unknown;
  const deadline = new Promise<'late'>((resolve) => {
    timer = clock.setTimeout(() => resolve('late'), deadlineMs);
  });
  try {
    if ((await Promise.race([listing, deadline])) !== 'late') return { keys, complete: true };
  } finally {
    clock.clearTimeout(timer);
  }
  late = true;
  iterator?.stop();
  listing.catch(() => {
    // Given up on: how it ends no longer matters.
  });
  return { keys: [...keys], complete: false };
}
