import type { Clock } from '../clock.js';
import type { AuditLog, AuditType, DurableState, StateStore } from '../storage/index.js';

/**
 * Keeps the state file and the audit log in step with the supervisor. Records are appended as
 * decisions are made; `commit` saves the state if anything durable changed and flushes the
 * audit log, once per tick (a group commit) and right after each operator command. Both are
 * synchronous, so a decision is on disk before anything outside the process can see it.
 */
export class Journal {
  private dirty = false;
  private closed = false;

  constructor(
    private readonly stateStore: StateStore | undefined,
    private readonly audit: AuditLog | undefined,
    private readonly clock: Clock,
    /** Called after each save: the state was just replaced, by us. */
    private readonly afterSave: () => void = () => {},
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

  /** Something the state file holds changed: save it at the next commit. */
  changed(): void {
    this.dirty = true;
  }

  commit(capture: () => DurableState): void {
    if (this.closed) return;
    if (this.dirty && this.stateStore !== undefined) {
      this.stateStore.save(capture());
      this.afterSave();
    }
    this.dirty = false;
    this.audit?.flush();
  }

  close(capture: () => DurableState): void {
    this.dirty = true;
    this.commit(capture);
    this.closed = true;
    this.audit?.close();
  }
}
