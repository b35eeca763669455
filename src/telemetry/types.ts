import type { TrustState } from '../trust/index.js';
import type { Labels, Metrics, NodeSnapshot } from '../types.js';

/** What a node reports on every beat. */
export interface Heartbeat {
  /** The id the node was registered with. */
  readonly nodeId: string;
  /**
   * Increases with every heartbeat a node sends; stale and duplicate ones are dropped. Within
   * one `epoch`: heartbeats are ordered by epoch first, then seq.
   */
  readonly seq: number;
  /**
   * The incarnation of the agent that sends it, such as the time its process started (ms): an
   * agent that restarts with a higher epoch may start its seq again from 0. Default: 0.
   */
  readonly epoch?: number;
  /**
   * The supervisor's boot this heartbeat is sent to, as the last reply (or a
   * `WYNEOS_ERR_HEARTBEAT_RESYNC` refusal) said. After the supervisor restarts, a node it
   * restored is refused until a heartbeat carries the current boot: one sent before the
   * restart can then never be replayed into it.
   */
  readonly boot?: number;
  /** Between 0 and 1. */
  readonly load: number;
  /** Finite numbers by name (at most 64); when present they replace the previous metrics. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** What the supervisor answers to an accepted heartbeat. */
export interface HeartbeatAck {
  /** The supervisor's boot: send it as `boot` in later heartbeats. */
  readonly boot: number;
}

/** What a node says about itself when it registers. */
export interface NodeRegistration {
  /** 1-253 letters, digits, `.`, `_`, `:` or `-`, starting with a letter or digit. */
  readonly id: string;
  /** At most 64 labels; keys like Kubernetes label keys, values up to 256 characters. */
  readonly labels?: Readonly<Record<string, string>>;
  /** A semantic version, such as `1.4.2`. */
  readonly version?: string;
  /** A signed licence (a JWT from `wyneos licence issue`), when the supervisor asks for one. */
  readonly licence?: string;
}

/**
 * The telemetry store's mutable record of one node. `A` is what its owner attaches
 * (the supervisor: the node's actor), so a tick reads both without a second lookup.
 */
export interface NodeRecord<A = unknown> {
  readonly id: string;
  readonly labels: Labels;
  readonly version: string | undefined;
  readonly registeredAt: number;
  /** Where the node's load, last heartbeat time, seq and epoch are in the store's columns. */
  readonly slot: number;
  metrics: Metrics;
  /**
   * True for a node restored from saved state and not heard since: its saved mark may lag the
   * last heartbeat accepted before the restart, so only a heartbeat carrying the current boot
   * is taken.
   */
  unheard: boolean;
  /**
   * True while the node is still in the state it was restored in (a restart, a shard taken
   * over): that state began on another process's clock, so only "a heartbeat since the restore"
   * can say it was heard since, not a comparison of times.
   */
  inherited: boolean;
  /** Whether the mark moved since the marks were last taken to be saved. */
  markMoved: boolean;
  /** The failure detector's state for this node (its own shape per detector). */
  readonly detector: DetectorState;
  /** What the store's owner attached to the node; undefined until it does. */
  attached: A | undefined;
  /** The node as ticks see it, refreshed in place each tick (see supervisor/snapshot.ts). */
  tickView: Mutable<NodeSnapshot> | undefined;
  /** The lifecycle snapshot (of the attached actor) the tick view last mirrored. */
  mirrored: unknown;
  /** The node's trust after its last incident; undefined while it never had one (trust 1). */
  trust: TrustState | undefined;
  /** Its heartbeat rate bucket (see supervisor/heartbeat-rate.ts): -1 until first limited. */
  tokens: number;
  tokensAt: number;
  /** Its node id's index in the trace recorder (replay/recorder.ts): -1 until first recorded. */
  traced: number;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What every detector's per-node state has: the time of the last arrival. */
export interface DetectorState {
  last: number;
}
