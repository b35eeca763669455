import type { Clock } from '../clock.js';
import { LeaseLostError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  AuditLog,
  AuditType,
  Durability,
  DurableState,
  StateStore,
} from '../storage/index.js';
import { StorageHealth } from './storage-health.js';

/**
 * Keeps the state store and the audit log in step with the supervisor. Records are appended as
 * decisions are made; `commit` flushes the audit log and then saves the state if anything
 * durable changed, once per tick (a group commit) and right after each operator command. The
 * log goes first: a crash between the two then leaves audit lines for a decision the state
 * lacks (the decision is lost, as any uncommitted one is), never a decision without its record.
 * A store that saves changes (`saveChanges`, NATS KV) is handed only the nodes marked changed
 * since the last save, so a commit costs what changed; anything else, a failed write and `close`
 * make the next save whole.
 *
 * With synchronous stores (the files) a commit is on disk when it returns, so a decision is
 * durable before anything outside the process can see it. An asynchronous store (NATS) returns
 * promises instead: the tick does not wait (it never awaits), and `durable()` tells whoever
 * must not act before the write lands (an operator's answer, an enforcement request) when it
 * has. Each store completes its writes in call order and a later write covers what an earlier
 * one failed to write, so the latest save and the latest flush settling mean everything
 * before them is durable. The two are tracked apart: a commit that only flushes the log must
 * not hide a save still in flight. An asynchronous save starts once its flush has landed (the
 * state is captured at the commit), so the ordering holds there too.
 *
 * A failed write never throws out of `commit`: it turns `health` degraded (changes are then
 * refused by whoever asks `health`), and commits write nothing until its backoff has passed.
 * The retry saves the whole state and flushes what the log kept buffered.
 */
export class Journal {
  readonly health: StorageHealth;
  // Something beyond single nodes changed (or a write failed): the next save is whole.
  private dirty = false;
  // Nodes changed since the last save: all a store that saves changes (NATS KV) is handed.
  private changedNodes = new Set<string>();
  private closed = false;
  private commits = 0;
  private lastSave: Promise<void> = Promise.resolve();
  private lastFlush: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateStore: StateStore | undefined,
    private readonly audit: AuditLog | undefined,
    private readonly clock: Clock,
    log: Logger,
    private readonly hooks: {
      /** The state was just saved, by us (so a shared store's change is not taken as news). */
      readonly afterSave?: () => void;
    } = {},
  ) {
    this.health = new StorageHealth(clock, log);
  }

  get enabled(): boolean {
    return this.stateStore !== undefined || this.audit !== undefined;
  }

  record(
    type: AuditType,
    nodeId: string | undefined,
    data: Readonly<Record<string, unknown>>,
  ): void {
    // A hook that settles after stop() has nowhere to go: the log is closed.
    if (this.closed) return;
    this.audit?.append({
      at: this.clock.now(),
      type,
      ...(nodeId === undefined ? {} : { nodeId }),
      data,
    });
  }

  /**
   * Something the state store holds changed: save it at the next commit. Given a node, only
   * that node changed: a store that saves changes is then handed that node alone, so a commit
   * costs what changed, not the fleet.
   */
  changed(nodeId?: string): void {
    if (nodeId === undefined) this.dirty = true;
    else this.changedNodes.add(nodeId);
  }

  commit(capture: Capture): void {
    if (this.closed) return;
    this.write(capture);
  }

  /**
   * Saves the heartbeat high-water marks that moved since the last call, where the state store
   * can save them on their own (once a tick: no whole save per heartbeat). A failure is
   * reported; the marks are saved with the state at its next save.
   */
  saveMarks(source: { takeMarks(): [string, number, number][] }): void {
    const store = this.stateStore;
    // While degraded only the retry writes, and its whole save holds every node's mark.
    if (this.closed || store?.saveMarks === undefined || this.health.degraded) return;
    const marks = source.takeMarks();
    if (marks.length === 0) return;
    const commit = ++this.commits;
    try {
      const saved = store.saveMarks(marks);
      // As after a save: the store changed because of us, which is no news to read back.
      if (saved === undefined) this.hooks.afterSave?.();
      else
        this.lastSave = this.track(
          saved.then(() => this.hooks.afterSave?.()),
          commit,
          false,
        );
    } catch (error) {
      this.dirty = true;
      this.lastSave = this.failed(error, commit, false);
    }
  }

  /**
   * Settles when everything committed so far is durable; rejects when the latest commit failed
   * (the next commit saves the whole state again, and the log keeps unwritten records).
   */
  durable(): Promise<void> {
    return Promise.all([this.lastSave, this.lastFlush]).then(() => undefined);
  }

  /** A last commit, backoff or not; rejects if the log or the state could not be written. */
  async close(capture: Capture): Promise<void> {
    if (this.closed) return;
    this.dirty = true;
    this.write(capture, true);
    this.closed = true;
    const closing = this.audit?.close();
    await Promise.all([this.lastSave, this.lastFlush, closing]);
  }

  private write(capture: Capture, closing = false): void {
    const retry = this.health.degraded;
    if (retry && !closing && !this.health.due()) return;
    // A retry writes everything: the state may have changed in ways no commit saved.
    if (retry) this.dirty = true;
    const commit = ++this.commits;
    const state = this.capture(capture);
    let flushed: Durability;
    try {
      flushed = this.audit?.flush();
    } catch (error) {
      this.dirty ||= state !== undefined;
      this.lastFlush = this.failed(error, commit, retry);
      return;
    }
    if (flushed !== undefined) {
      this.lastFlush = this.track(flushed, commit, retry);
      const after = this.lastFlush;
      if (state !== undefined) {
        this.lastSave = this.settle(
          after.then(
            () =>
              this.track(
                attempt(() => this.save(state)),
                commit,
                retry,
              ),
            (error: unknown) => {
              // The flush failed and was reported: the state that depends on it waits.
              this.dirty = true;
              throw error;
            },
          ),
        );
      }
      this.landed([after, this.lastSave], commit, retry);
      return;
    }
    this.lastFlush = Promise.resolve();
    if (state === undefined) {
      this.health.succeeded(commit, retry);
      return;
    }
    let saved: Durability;
    try {
      saved = this.save(state);
    } catch (error) {
      this.dirty = true;
      this.lastSave = this.failed(error, commit, retry);
      return;
    }
    if (saved === undefined) {
      this.lastSave = Promise.resolve();
      this.health.succeeded(commit, retry);
    } else {
      this.lastSave = this.track(saved, commit, retry);
      this.landed([this.lastSave], commit, retry);
    }
  }

  // What this commit saves: nothing, the changed nodes alone, or the whole state.
  private capture(capture: Capture): Save | undefined {
    const store = this.stateStore;
    const nodes = this.changedNodes;
    const whole = this.dirty;
    this.dirty = false;
    if (nodes.size > 0) this.changedNodes = new Set();
    if ((!whole && nodes.size === 0) || store === undefined) return undefined;
    if (whole || store.saveChanges === undefined) return { state: capture() };
    return { state: capture(nodes), nodes };
  }

  private save({ state, nodes }: Save): Durability {
    const store = this.stateStore as StateStore;
    const saved =
      nodes === undefined || store.saveChanges === undefined
        ? store.save(state)
        : store.saveChanges(state, nodes);
    if (saved === undefined) {
      this.hooks.afterSave?.();
      return undefined;
    }
    return saved.then(() => this.hooks.afterSave?.());
  }

  // A synchronous failure, as the promise durable() hands out.
  private failed(error: unknown, commit: number, retry: boolean): Promise<void> {
    this.health.failed(error, commit, retry);
    return this.settle(Promise.reject(error));
  }

  private track(write: Promise<void>, commit: number, retry: boolean): Promise<void> {
    return this.settle(
      write.then(
        () => undefined,
        (error: unknown) => {
          // Saved again by the retry: a store writes what differs from what it last wrote.
          this.dirty = true;
          // A fenced write is the distributed mode letting go of a shard, not a storage fault:
          // the store has stopped writing that shard, and the next commit writes the rest.
          if (!(error instanceof LeaseLostError)) this.health.failed(error, commit, retry);
          throw error;
        },
      ),
    );
  }

  // Every write of an asynchronous commit landed: that ends a degraded episode if it was a retry.
  private landed(writes: Promise<void>[], commit: number, retry: boolean): void {
    if (!retry) return;
    this.settle(Promise.all(writes).then(() => this.health.succeeded(commit, retry)));
  }

  // Failures are reported through health; durable() hands the rejection to whoever waits for it.
  private settle(promise: Promise<void>): Promise<void> {
    promise.catch(() => {});
    return promise;
  }
}

/**
 * The durable state now: every node, or (given ids) only those of them still present, with
 * everything else whole.
 */
export type Capture = (nodeIds?: ReadonlySet<string>) => DurableState;

interface Save {
  readonly state: DurableState;
  /** Set when only these nodes changed: `state` holds those of them still present. */
  readonly nodes?: ReadonlySet<string>;
}

/** Runs a write that may throw or return a promise, as a promise. */
function attempt(write: () => Durability): Promise<void> {
  return new Promise<void>((resolve) => resolve(write()));
}
