/** What moves a node's trust down, each with its weight (how much one occurrence costs). */
export interface TrustWeights {
  /** One failing tick of a rule of this severity. */
  readonly critical: number;
  readonly high: number;
  readonly medium: number;
  readonly low: number;
  readonly info: number;
  /** The node went offline. */
  readonly offline: number;
  /** The node was isolated as flapping. */
  readonly flapping: number;
  /** A heartbeat refused as malformed or stale (a seq regression). */
  readonly rejectedHeartbeat: number;
  /** The node's credentials were used to act as another node. */
  readonly impersonation: number;
  /** Its licence expired, was revoked or no longer checks. */
  readonly licence: number;
}

/** The `trust` option of `createSupervisor`. */
export interface TrustOptions {
  readonly weights: TrustWeights;
  /** How fast trust comes back once the node is in good standing, per minute. */
  readonly recoveryPerMinute: number;
  /** How long without any incident before trust starts coming back, in ms. */
  readonly goodStandingMs: number;
}

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
