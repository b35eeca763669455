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
 * has. Stores complete their writes in call order, so the last commit settling means every
 * earlier one has too.
 */
export class Journal {
  private dirty = false;
  private closed = false;
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly stateStore: StateStore | undefined,
    private readonly audit: AuditLog | undefined,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void = () => {},
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
    const writes: Array<Promise<void>> = [];
    if (this.dirty && this.stateStore !== undefined) {
      const saved = this.stateStore.save(capture());
      if (saved !== undefined) writes.push(saved);
    }
    this.dirty = false;
    const flushed = this.audit?.flush();
    if (flushed !== undefined) writes.push(flushed);
    if (writes.length > 0) this.track(Promise.all(writes));
  }

  /**
   * Settles when everything committed so far is durable; rejects when the latest commit failed
   * (the next commit saves the whole state again, and the log keeps unwritten records).
   */
  durable(): Promise<void> {
    return this.last;
  }

  async close(capture: () => DurableState): Promise<void> {
    this.dirty = true;
    this.commit(capture);
    this.closed = true;
    const closing = this.audit?.close();
    await Promise.all([this.last, closing]);
  }

  private track(writes: Promise<unknown>): void {
    const done = writes.then(
      () => undefined,
      (error: unknown) => {
        // Saved again at the next commit: a store writes what differs from what it last wrote.
        this.dirty = true;
        this.onError(error);
        throw error;
      },
    );
    // Reported through onError; durable() hands the rejection to whoever waits for it.
    done.catch(() => {});
    this.last = done;
  }
}
