import type { Clock } from '../clock.js';
import type { AuditLog, AuditType, DurableState, StateStore } from '../storage/index.js';

/**
 * Keeps the state store and the audit log in step with the supervisor. Records are appended as
 * decisions are made; `commit` saves the state if anything durable changed and flushes the
 * audit log, once per tick (a group commit) and right after each operator command.
 *
 * With synchronous stores (the files) a commit is on disk when it returns, so a decision is
 * durable before anything outside the process can see it. An asynchronous store (NATS) returns
 * promises instead: the tick does not wait (it never awaits), and `durable()` tells whoever
 * must not act before the write lands (an operator's answer, an enforcement request) when it
 * has. Each store completes its writes in call order and a later write covers what an earlier
 * one failed to write, so the latest save and the latest flush settling mean everything
 * before them is durable. The two are tracked apart: a commit that only flushes the log must
 * not hide a save still in flight.
 */
export class Journal {
  private dirty = false;
  private closed = false;
  private lastSave: Promise<void> = Promise.resolve();
  private lastFlush: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateStore: StateStore | undefined,
    private readonly audit: AuditLog | undefined,
    private readonly clock: Clock,
    private readonly hooks: {
      /** A write failed (it is retried at the next commit). */
      readonly onError?: (error: unknown) => void;
      /** The state was just saved, by us (so a shared store's change is not taken as news). */
      readonly afterSave?: () => void;
    } = {},
  ) {}

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

  /** Something the state store holds changed: save it at the next commit. */
  changed(): void {
    this.dirty = true;
  }

  commit(capture: () => DurableState): void {
    if (this.closed) return;
    if (this.dirty && this.stateStore !== undefined) {
      const saved = this.stateStore.save(capture());
      if (saved === undefined) this.hooks.afterSave?.();
      else this.lastSave = this.track(saved.then(() => this.hooks.afterSave?.()));
    }
    this.dirty = false;
    const flushed = this.audit?.flush();
    if (flushed !== undefined) this.lastFlush = this.track(flushed);
  }

  /**
   * Saves the heartbeat high-water marks that moved since the last call, where the state store
   * can save them on their own (once a tick: no whole save per heartbeat). A failure is
   * reported; the marks are saved with the state at its next save.
   */
  saveMarks(source: { takeMarks(): [string, number, number][] }): void {
    const store = this.stateStore;
    if (this.closed || store?.saveMarks === undefined) return;
    const marks = source.takeMarks();
    if (marks.length === 0) return;
    try {
      const saved = store.saveMarks(marks);
      // As after a save: the store changed because of us, which is no news to read back.
      if (saved === undefined) this.hooks.afterSave?.();
      else this.lastSave = this.track(saved.then(() => this.hooks.afterSave?.()));
    } catch (error) {
      this.dirty = true;
      this.hooks.onError?.(error);
    }
  }

  /**
   * Settles when everything committed so far is durable; rejects when the latest commit failed
   * (the next commit saves the whole state again, and the log keeps unwritten records).
   */
  durable(): Promise<void> {
    return Promise.all([this.lastSave, this.lastFlush]).then(() => undefined);
  }

  async close(capture: () => DurableState): Promise<void> {
    this.dirty = true;
    this.commit(capture);
    this.closed = true;
    const closing = this.audit?.close();
    await Promise.all([this.lastSave, this.lastFlush, closing]);
  }

  private track(write: Promise<void>): Promise<void> {
    const done = write.then(
      () => undefined,
      (error: unknown) => {
        // Saved again at the next commit: a store writes what differs from what it last wrote.
        this.dirty = true;
        this.hooks.onError?.(error);
        throw error;
      },
    );
    // Reported through onError; durable() hands the rejection to whoever waits for it.
    done.catch(() => {});
    return done;
  }
}
