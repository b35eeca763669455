import type { Exemption } from '../governance/index.js';
import type { Revocation } from '../licensing/index.js';
import type { Labels, NodeState } from '../types.js';

/** The version of the state file's format; a later version migrates older ones on load. */
export const stateFormatVersion = 1;
/** The version of each audit record's format. */
export const auditFormatVersion = 1;

/** One node as a restart needs it: its registration and its lifecycle. */
export interface DurableNode {
  readonly id: string;
  readonly labels: Labels;
  readonly version?: string;
  readonly registeredAt: number;
  readonly state: NodeState;
  readonly since: number;
  readonly reason: string;
  readonly isolations: number;
  readonly reinstateAt: number | null;
  readonly probationUntil: number | null;
  readonly escalation: number;
  /** The seq of the last accepted heartbeat (-1 before the first), so old ones stay refused. */
  readonly seq: number;
  /** The incarnation of the node's agent that sent that heartbeat (0 when it gave none). */
  readonly epoch?: number;
  /** The licence the node presented at admission (a JWT), re-checked on restore. */
  readonly licence?: string;
}

/** Everything a supervisor must not forget across a restart or a crash. */
export interface DurableState {
  readonly format: 'wyneos-state';
  readonly version: typeof stateFormatVersion;
  /** When it was saved, on the supervisor's clock (ms). */
  readonly savedAt: number;
  /** How many times a supervisor has started on this state (it names action ids uniquely). */
  readonly boots: number;
  readonly policyVersion: string;
  readonly nodes: readonly DurableNode[];
  readonly overrides: { readonly protected: readonly string[]; readonly pinned: readonly string[] };
  readonly exemptions: readonly Exemption[];
  /**
   * Revoked licences. Optional, so states saved before licensing load as they are; every
   * supervisor sharing the store merges them in (a union: a revocation is never undone).
   */
  readonly revocations?: readonly Revocation[];
}

/**
 * What a write returns: nothing when it is durable on return (the files, which write
 * synchronously so that no answer ever precedes durability), or a promise that settles once it
 * is (NATS, where every write is a round trip). The supervisor never awaits inside a tick: it
 * starts the write at the end of the tick, and whatever must not be seen before the write is
 * durable (an operator's answer, an enforcement request) waits for `Supervisor.durable()`.
 */
export type Durability = void | Promise<void>;

/** Saves and loads the durable state. Saving replaces the previous state atomically. */
export interface StateStore {
  /**
   * The saved state, or undefined when there is none yet. Throws StateCorruptError, or
   * StateVersionError for a state a newer release wrote.
   */
  load(): DurableState | undefined;
  /**
   * Replaces the saved state; durable when this returns. Throws InvalidArgumentError for a
   * state that `load` would refuse (nothing is written then), StorageError when writing fails.
   * An asynchronous store returns a promise instead, rejected with those errors; it takes what
   * it writes from `state` before returning, and completes its saves in the order they were
   * called.
   */
  save(state: DurableState): Durability;
  /**
   * Optional: a token that changes whenever the saved state changes, cheap to read (a file's
   * stat). Supervisors sharing a store read it every tick, and `load` only when it changed,
   * to pick up each other's revocations.
   */
  revision?(): string | undefined;
  /**
   * Optional: saves heartbeat high-water marks, `[nodeId, epoch, seq]` each, without saving the
   * whole state (the supervisor calls it once a tick with the marks that moved). A store that
   * has it gets replayed heartbeats refused across a crash (see the README's Durability); one
   * without it keeps a node's seq only when something else about the node is saved.
   */
  saveMarks?(marks: readonly (readonly [nodeId: string, epoch: number, seq: number])[]): Durability;
  /**
   * Optional: saves what changed since the last save, as `save` does the whole state. `nodes`
   * names every node that changed; `state.nodes` holds those of them still present (the rest
   * were deregistered or let go), and everything else in `state` is whole. A store that has it
   * is handed only the changed nodes at most commits (each registration batch, each tick), and
   * the whole state after a failed write or an operator command. Same errors and ordering as
   * `save`.
   */
  saveChanges?(state: DurableState, nodes: ReadonlySet<string>): Durability;
}

/**
 * What an audit record is about. `abandoned` (NATS mode): a node's changes since its last
 * durable write were dropped, its shard's lease having lapsed before they were written; the
 * records about it since then (transitions, the actions in `data.actions`) never took effect.
 */
export type AuditType =
  | 'transition'
  | 'action'
  | 'admission'
  | 'operator'
  | 'policy'
  | 'governance'
  | 'registration'
  | 'start'
  | 'stop'
  | 'licence'
  | 'abandoned';

/** One line of the audit log. `data` is the record's own payload (a transition, an action, ...). */
export interface AuditRecord {
  readonly v: typeof auditFormatVersion;
  /** Increases by one per record, across restarts and rotations. */
  readonly seq: number;
  /** On the supervisor's clock (ms). */
  readonly at: number;
  readonly type: AuditType;
  /** The node it is about, if one. */
  readonly nodeId?: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * An append-only log. `append` buffers; `flush` writes and syncs everything appended since the
 * last flush (the supervisor flushes once per tick: a group commit).
 */
export interface AuditLog {
  /**
   * Buffers a record until the next flush and returns it with its `v` and `seq`. Throws
   * InvalidArgumentError for a record that could not be read back (an `at` that is not a
   * number, `data` that is not an object or holds a BigInt), and StorageError once closed.
   */
  append(record: Omit<AuditRecord, 'v' | 'seq'>): AuditRecord;
  /**
   * Writes and syncs everything buffered. Throws StorageError; the records then stay buffered.
   * An asynchronous log takes the buffered records before returning and returns a promise;
   * flushes complete in the order they were called.
   */
  flush(): Durability;
  /** Every flushed record, oldest first (rotated files included). */
  read(): AuditRecord[] | Promise<AuditRecord[]>;
  /** Flushes and releases the log; appending afterwards throws. */
  close(): Durability;
}
