import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import type { LeaseRenewals } from './lease-renewer.js';
import { LeaseSlots, monotonicNow } from './lease-slots.js';

/** What the lease worker starts with (see lease-worker.ts). */
export interface LeaseWorkerData {
  readonly url: string;
  /** Its connection's name in the server's connection list. */
  readonly name: string;
  readonly bucket: string;
  readonly owner: string;
  readonly ttlMs: number;
  readonly stallMs: number;
  readonly buffer: SharedArrayBuffer;
}

export type FromMain =
  | {
      readonly type: 'hold';
      readonly shard: number;
      readonly fence: number;
      readonly sentAt: number;
      readonly revision: number;
    }
  | { readonly type: 'drop'; readonly shard: number; readonly id: number }
  | { readonly type: 'stop' };

export type ToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'lost'; readonly shard: number; readonly fence: number; readonly why: string }
  | { readonly type: 'dropped'; readonly id: number; readonly revision: number | undefined }
  | {
      readonly type: 'log';
      readonly level: 'warn' | 'error';
      readonly fields: Record<string, unknown>;
      readonly message: string;
    };

export interface WorkerRenewalsOptions {
  readonly url: string;
  readonly bucket: string;
  readonly owner: string;
  readonly shards: number;
  readonly ttlMs: number;
  /** How long the main thread may go unanswering before renewals stop. @defaultValue 2 × ttlMs */
  readonly stallMs?: number;
  readonly log: Logger;
}

/**
 * Lease renewals on a worker thread (lease-worker.ts): a main thread saturated by heartbeats
 * and ticks, whose timers fire seconds late, keeps its leases, while one that stops answering
 * for `stallMs` loses them. Whether a lease is fresh is read from memory the worker writes
 * (LeaseSlots), so a write's fence check never waits for a message the busy main thread has
 * not read yet. A worker that dies is started again with the leases held.
 */
export class WorkerRenewals implements LeaseRenewals {
  private readonly slots: LeaseSlots;
  private readonly held = new Map<number, number>();
  private readonly drops = new Map<number, (revision: number | undefined) => void>();
  private worker: Worker | undefined;
  private alive: NodeJS.Timeout | undefined;
  private stopping = false;
  private nextId = 0;
  private lost: (shard: number, fence: number, why: string) => void = () => {};

  constructor(private readonly options: WorkerRenewalsOptions) {
    this.slots = LeaseSlots.create(options.shards);
  }

  now(): number {
    return monotonicNow();
  }

  hold(shard: number, fence: number, sentAt: number): void {
    this.held.set(shard, fence);
    this.slots.renewed(shard, fence, sentAt);
    this.post({ type: 'hold', shard, fence, sentAt, revision: fence });
  }

  drop(shard: number): Promise<number | undefined> {
    this.held.delete(shard);
    this.slots.clear(shard);
    const worker = this.worker;
    if (worker === undefined) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.drops.set(id, resolve);
      worker.postMessage({ type: 'drop', shard, id } satisfies FromMain);
    });
  }

  fresh(shard: number): boolean {
    const renewedAt = this.slots.renewedAt(shard);
    return this.held.has(shard) && renewedAt !== 0 && this.now() - renewedAt < this.options.ttlMs;
  }

  async start(lost: (shard: number, fence: number, why: string) => void): Promise<void> {
    this.lost = lost;
    const { ttlMs } = this.options;
    this.slots.markAlive();
    this.alive = setInterval(() => this.slots.markAlive(), Math.max(100, Math.floor(ttlMs / 10)));
    this.alive.unref();
    await this.spawn();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.alive);
    const worker = this.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies FromMain);
    await exited;
  }

  /** @internal Ends the worker as a crash of it would (tests). */
  terminateWorker(): Promise<number> | undefined {
    return this.worker?.terminate();
  }

  private post(message: FromMain): void {
    this.worker?.postMessage(message);
  }

  private spawn(): Promise<void> {
    const { url, bucket, owner, ttlMs, stallMs = 2 * ttlMs, log } = this.options;
    const workerData: LeaseWorkerData = {
      url,
      name: `wyneos-${owner}-leases`,
      bucket,
      owner,
      ttlMs,
      stallMs,
      buffer: this.slots.buffer,
    };
    const [script, scriptOptions] = workerEntry();
    const worker = new Worker(script, { ...scriptOptions, workerData });
    this.worker = worker;
    let ready = false;
    return new Promise((resolve, reject) => {
      worker.on('message', (message: ToMain) => {
        switch (message.type) {
          case 'ready':
            ready = true;
            for (const [shard, fence] of this.held) {
              const sentAt = this.slots.renewedAt(shard);
              const revision = this.slots.revision(shard);
              worker.postMessage({
                type: 'hold',
                shard,
                fence,
                sentAt,
                revision,
              } satisfies FromMain);
            }
            resolve();
            return;
          case 'failed':
            reject(new Error(`The lease worker could not start: ${message.error}`));
            return;
          case 'lost':
            this.lost(message.shard, message.fence, message.why);
            return;
          case 'dropped':
            this.drops.get(message.id)?.(message.revision);
            this.drops.delete(message.id);
            return;
          case 'log':
            log[message.level](message.fields, message.message);
        }
      });
      worker.on('error', (error) => log.error({ error: error.message }, 'the lease worker failed'));
      worker.on('exit', (code) => {
        for (const resolveDrop of this.drops.values()) resolveDrop(undefined);
        this.drops.clear();
        if (this.worker !== worker) return;
        // Nothing is posted to a worker that is gone (a drop would never be answered).
        this.worker = undefined;
        if (this.stopping) return;
        if (!ready) {
          reject(new Error(`The lease worker exited with code ${code} before it started`));
          return;
        }
        log.error({ code }, 'the lease worker exited; starting it again');
        this.spawn().catch((error: unknown) => {
          log.error({ error: thrownMessage(error) }, 'the lease worker did not start again');
        });
      });
    });
  }
}

/**
 * The worker's script. Run from the sources (tests), it is TypeScript too: a one-line script
 * registers tsx in the worker first (a worker's `--import` does not reach its entry on Node 20).
 */
function workerEntry(): [string | URL, { eval?: boolean }] {
  const entry = new URL(
    `./lease-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
    import.meta.url,
  );
  if (entry.pathname.endsWith('.js')) return [entry, {}];
  const script = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return [script, { eval: true }];
}
