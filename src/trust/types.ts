/** What moves a node's trust down, each with its weight (how much one occurrence costs). */
export interface TrustWeights {
  /**
   * One failing tick of a rule of this severity.
   * @defaultValue 0.3
   */
  readonly critical: number;
  /**
   * One failing tick of a rule of this severity.
   * @defaultValue 0.15
   */
  readonly high: number;
  /**
   * One failing tick of a rule of this severity.
   * @defaultValue 0.05
   */
  readonly medium: number;
  /**
   * One failing tick of a rule of this severity.
   * @defaultValue 0.02
   */
  readonly low: number;
  /**
   * One failing tick of a rule of this severity.
   * @defaultValue 0
   */
  readonly info: number;
  /**
   * The node went offline.
   * @defaultValue 0.1
   */
  readonly offline: number;
  /**
   * The node was isolated as flapping.
   * @defaultValue 0.2
   */
  readonly flapping: number;
  /**
   * A heartbeat refused as malformed or stale (a seq regression).
   * @defaultValue 0.02
   */
  readonly rejectedHeartbeat: number;
  /**
   * The node's credentials were used to act as another node.
   * @defaultValue 0.3
   */
  readonly impersonation: number;
  /**
   * Its licence expired, was revoked or no longer checks.
   * @defaultValue 0.4
   */
  readonly licence: number;
}

/** The `trust` option of `createSupervisor`. */
export interface TrustOptions {
  readonly weights: TrustWeights;
  /**
   * How fast trust comes back once the node is in good standing, per minute.
   * @defaultValue 0.01
   */
  readonly recoveryPerMinute: number;
  /**
   * How long without any incident before trust starts coming back, in ms.
   * @defaultValue 300_000
   */
  readonly goodStandingMs: number;
}

/**
 * What lowers a node's trust besides time: `rule` (a failing rule, weighed by its severity) or
 * one of the incidents {@link TrustWeights} weighs, such as `offline` or `impersonation`.
 */
export type TrustIncidentKind =
  | Exclude<keyof TrustWeights, 'critical' | 'high' | 'medium' | 'low' | 'info'>
  | 'rule';

/** One thing that moved a node's trust, as `explainTrust` lists it. */
export interface TrustEntry {
  readonly at: number;
  readonly tick: number;
  /** `rule` (a failing rule), an incident kind, or `recovery` (time in good standing). */
  readonly kind: TrustIncidentKind | 'recovery';
  readonly detail: string;
  /** How much it moved trust: negative for incidents, positive for recovery. */
  readonly delta: number;
}

/** `sup.explainTrust(nodeId)`: the score now and what moved it, newest last. */
export interface TrustExplanation {
  readonly nodeId: string;
  readonly trust: number;
  /** The recovery under way now (not yet in `entries`): since when, and how much so far. */
  readonly recovering: { readonly since: number; readonly delta: number } | null;
  /** The most recent movements (at most 50). */
  readonly entries: readonly TrustEntry[];
}

/** A node's trust: its value after the last incident, and when that was. */
export interface TrustState {
  base: number;
  penalizedAt: number;
  entries: TrustEntry[];
}
