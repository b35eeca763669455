import {
  DuplicateNodeError,
  HeartbeatResyncError,
  StaleHeartbeatError,
  UnknownNodeError,
} from '../errors.js';
import type { FailureDetector } from '../healing/index.js';
import { TelemetryColumns } from './columns.js';
import type { DetectorState, Heartbeat, NodeRecord, NodeRegistration } from './types.js';

const noMetrics = Object.freeze({});

/**
 * The latest telemetry and metadata of every registered node: a mutable record a node, and its
 * hot numbers (load, last heartbeat, seq, epoch) in `columns` at the record's slot. The
 * heartbeat hot path is a map lookup and a few assignments, never an actor event.
 */
export class TelemetryStore<A = unknown> {
  private readonly records = new Map<string, NodeRecord<A>>();
  /** Read at a record's `slot`, and only while the record is in the store: slots are reused. */
  readonly columns = new TelemetryColumns();
  private moved: NodeRecord<A>[] = [];
  /** Whether marks that move are kept for `takeMarks` (only when something saves them). */
  trackMarks = false;
  /** Told of each node whose heartbeat brings a new epoch (a new incarnation of its agent). */
  epochMoved: ((nodeId: string) => void) | undefined;

  constructor(
    private readonly detector: FailureDetector<DetectorState>,
    /** The supervisor's boot, which a restored node's first heartbeat must carry. */
    readonly boot = 1,
  ) {}

  get size(): number {
    return this.records.size;
  }

  get(nodeId: string): NodeRecord<A> | undefined {
    return this.records.get(nodeId);
  }

  /** Every record, in registration order. */
  values(): IterableIterator<NodeRecord<A>> {
    return this.records.values();
  }

  /** Checks that none of the ids is taken (nor repeated), so a batch registers all or nothing. */
  assertAvailable(registrations: readonly NodeRegistration[]): void {
    const ids = new Set<string>();
    for (const { id } of registrations) {
      if (this.records.has(id) || ids.has(id)) throw new DuplicateNodeError(id);
      ids.add(id);
    }
  }

  /** Adds a node; its failure detector watches it from `watchedFrom` (its registration). */
  add(
    registration: NodeRegistration,
    registeredAt: number,
    watchedFrom = registeredAt,
  ): NodeRecord<A> {
    const record: NodeRecord<A> = {
      id: registration.id,
      // Copied and frozen: the caller's object stays theirs, and rules cannot change ours.
      labels: Object.freeze({ ...registration.labels }),
      version: registration.version,
      registeredAt,
      slot: this.columns.allocate(),
      metrics: noMetrics,
      unheard: false,
      inherited: false,
      markMoved: false,
      detector: this.detector.createState(watchedFrom),
      attached: undefined,
      tickView: undefined,
      mirrored: undefined,
      trust: undefined,
      tokens: -1,
      tokensAt: 0,
      traced: -1,
    };
    this.records.set(record.id, record);
    return record;
  }

  /**
   * Adds a node known from before a restart: its last accepted (epoch, seq) stays, so old
   * heartbeats are still refused, and its failure detector starts watching at `watchedFrom` (a
   * restarted supervisor gives every node one heartbeat timeout of grace, since it was not
   * watching). With `resync`, its first heartbeat must carry the current boot.
   */
  restore(
    registration: NodeRegistration,
    registeredAt: number,
    mark: { readonly seq: number; readonly epoch: number; readonly resync: boolean },
    watchedFrom: number,
  ): NodeRecord<A> {
    const record = this.add(registration, registeredAt, watchedFrom);
    this.columns.seq[record.slot] = mark.seq;
    this.columns.epoch[record.slot] = mark.epoch;
    record.unheard = mark.resync;
    record.inherited = true;
    return record;
  }

  /** The marks that moved since the last call, `[nodeId, epoch, seq]`, for nodes still here. */
  takeMarks(): [string, number, number][] {
    const marks: [string, number, number][] = [];
    for (const record of this.moved) {
      record.markMoved = false;
      if (this.records.get(record.id) !== record) continue;
      const { epoch, seq } = this.columns;
      marks.push([record.id, epoch[record.slot] as number, seq[record.slot] as number]);
    }
    this.moved = [];
    return marks;
  }

  /** Drops a node and frees its slot (the node book's `forget`, the one way a node leaves). */
  delete(nodeId: string): void {
    const record = this.records.get(nodeId);
    if (record === undefined) return;
    this.records.delete(nodeId);
    this.columns.free(record.slot);
  }

  /**
   * Checks that a valid heartbeat would be taken, without taking it: throws UnknownNodeError,
   * HeartbeatResyncError (a restored node not heard since, and no current `boot`) or
   * StaleHeartbeatError ((epoch, seq) not past the node's last).
   */
  check(heartbeat: Heartbeat): NodeRecord<A> {
    const record = this.records.get(heartbeat.nodeId);
    if (record === undefined) throw new UnknownNodeError(heartbeat.nodeId);
    const refusal = this.refusal(record, heartbeat);
    if (refusal !== undefined) throw refusal;
    return record;
  }

  /** Why `record`'s node would not take `heartbeat` now (resync, stale), or undefined. */
  refusal(
    record: NodeRecord<A>,
    heartbeat: Heartbeat,
  ): HeartbeatResyncError | StaleHeartbeatError | undefined {
    if (record.unheard && heartbeat.boot !== this.boot) {
      return new HeartbeatResyncError(heartbeat.nodeId, this.boot);
    }
    const epoch = heartbeat.epoch ?? 0;
    const lastEpoch = this.columns.epoch[record.slot] as number;
    const lastSeq = this.columns.seq[record.slot] as number;
    if (epoch < lastEpoch || (epoch === lastEpoch && heartbeat.seq <= lastSeq)) {
      return new StaleHeartbeatError(heartbeat.nodeId, heartbeat.seq, lastSeq, epoch, lastEpoch);
    }
    return undefined;
  }

  /** Applies a valid heartbeat received at `receivedAt`; throws as `check` does. */
  accept(heartbeat: Heartbeat, receivedAt: number): NodeRecord<A> {
    const record = this.check(heartbeat);
    this.take(record, heartbeat, receivedAt);
    return record;
  }

  /** Applies a heartbeat that `refusal` found nothing against. */
  take(record: NodeRecord<A>, heartbeat: Heartbeat, receivedAt: number): void {
    const { columns } = this;
    const { slot } = record;
    columns.seq[slot] = heartbeat.seq;
    const epoch = heartbeat.epoch ?? 0;
    if (this.epochMoved !== undefined && columns.epoch[slot] !== epoch) this.epochMoved(record.id);
    columns.epoch[slot] = epoch;
    columns.load[slot] = heartbeat.load;
    columns.lastHeartbeatAt[slot] = receivedAt;
    record.unheard = false;
    if (this.trackMarks && !record.markMoved) {
      record.markMoved = true;
      this.moved.push(record);
    }
    // Copied, so the sender's object stays theirs; not frozen, which cost more than the rest of
    // a heartbeat together. Rules get metrics typed read-only.
    if (heartbeat.metrics !== undefined) record.metrics = { ...heartbeat.metrics };
    this.detector.recordHeartbeat(record.detector, receivedAt);
  }
}
