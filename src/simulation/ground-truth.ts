import type { Expectation, FaultKind } from './faults.js';

/** What the supervisor was seen doing about a node: the evidence detection is judged by. */
export type Signal =
  | 'offline'
  | 'isolated'
  | 'overloaded'
  | 'reduce-load'
  | 'rejected'
  | 'non-compliant'
  | 'admission-refused'
  | 'online'
  /** The node was already offline or isolated when the fault began: nothing left to detect. */
  | 'already-down';

/** What each expectation accepts as having been detected. */
const satisfies: Record<Expectation, readonly Signal[]> = {
  offline: ['offline', 'isolated', 'already-down'],
  overloaded: ['overloaded', 'reduce-load', 'isolated'],
  rejected: ['rejected'],
  'non-compliant': ['non-compliant', 'admission-refused'],
  online: ['online'],
  gated: ['isolated'],
  tolerated: [],
};

/** One fault on one node, with what the supervisor did about it. */
export interface Incident {
  /** The fault's index in the run's fault list. */
  readonly fault: number;
  readonly kind: FaultKind;
  readonly nodeId: string;
  readonly startAt: number;
  /** When the fault ended; null while it lasts to the end of the run. */
  readonly endAt: number | null;
  readonly expect: Expectation;
  readonly detectedAt: number | null;
  /** The evidence: a transition (`offline`), an action (`reduce-load`), a rejection, ... */
  readonly detectedBy: Signal | null;
  readonly latencyMs: number | null;
  /**
   * `detected`; `missed` (not detected within the grace after it ended); `pending` (the run
   * ended first); for faults a supervisor should ride out, `tolerated` or `reacted` (it declared
   * the node offline or isolated it all the same).
   */
  readonly outcome: 'detected' | 'missed' | 'pending' | 'tolerated' | 'reacted';
}

/** A node declared offline or isolated while no fault touched it. */
export interface FalsePositive {
  readonly nodeId: string;
  readonly at: number;
  readonly to: 'offline' | 'isolated';
  readonly reason: string;
}

interface OpenIncident {
  fault: number;
  kind: FaultKind;
  nodeId: string;
  startAt: number;
  endAt: number;
  expect: Expectation;
  detectedAt: number | null;
  detectedBy: Signal | null;
  reacted: boolean;
}

/**
 * The simulator's knowledge of what it injected, matched against what the supervisor did.
 * `graceMs` is how long after a fault ends evidence still counts (the detector and the
 * overload hysteresis need time), and how long a node counts as touched by it.
 */
export class GroundTruth {
  private readonly all: OpenIncident[] = [];
  private readonly byNode = new Map<string, OpenIncident[]>();
  private readonly falsePositives: FalsePositive[] = [];
  private falsePositiveCount = 0;

  constructor(private readonly graceMs: number) {}

  /** Opens an incident; `down` says the supervisor already has the node offline or isolated. */
  open(incident: Omit<OpenIncident, 'detectedAt' | 'detectedBy' | 'reacted'>, down = false): void {
    const already = down && incident.expect === 'offline';
    const open: OpenIncident = {
      ...incident,
      detectedAt: already ? incident.startAt : null,
      detectedBy: already ? 'already-down' : null,
      reacted: false,
    };
    this.all.push(open);
    const list = this.byNode.get(incident.nodeId);
    if (list === undefined) this.byNode.set(incident.nodeId, [open]);
    else list.push(open);
  }

  /** Ends the node's open incidents of a kind (a crash ended by a recovery). */
  end(nodeId: string, kind: FaultKind, at: number): void {
    for (const incident of this.byNode.get(nodeId) ?? []) {
      if (incident.kind === kind && incident.endAt > at) incident.endAt = at;
    }
  }

  /** The supervisor did something about a node: credit the incidents it answers. */
  observe(nodeId: string, signal: Signal, at: number, reason = ''): void {
    const list = this.byNode.get(nodeId);
    let touched = false;
    if (list !== undefined) {
      for (const incident of list) {
        if (at < incident.startAt) continue;
        const live = at <= incident.endAt + this.graceMs;
        if (live) touched = true;
        if (incident.detectedAt !== null) continue;
        if (incident.expect === 'tolerated') {
          if (live && (signal === 'offline' || signal === 'isolated')) incident.reacted = true;
          continue;
        }
        if (at <= this.deadline(incident) && satisfies[incident.expect].includes(signal)) {
          incident.detectedAt = at;
          incident.detectedBy = signal;
        }
      }
    }
    if (!touched && (signal === 'offline' || signal === 'isolated')) {
      this.falsePositiveCount++;
      if (this.falsePositives.length < 50)
        this.falsePositives.push({ nodeId, at, to: signal, reason });
    }
  }

  // A fault that lasts to the end (a crash for good, a bad redeploy) must still be seen within
  // the grace of its start; a recovery has no deadline (backoff can keep a node out for long).
  private deadline(incident: OpenIncident): number {
    if (incident.expect === 'online') return Infinity;
    return (incident.endAt === Infinity ? incident.startAt : incident.endAt) + this.graceMs;
  }

  /** Every incident as the run ending at `at` leaves it. */
  incidents(at: number): Incident[] {
    return this.all.map((i) => {
      const latencyMs = i.detectedAt === null ? null : i.detectedAt - i.startAt;
      let outcome: Incident['outcome'];
      if (i.expect === 'tolerated') outcome = i.reacted ? 'reacted' : 'tolerated';
      else if (i.detectedAt !== null) outcome = 'detected';
      else outcome = at > this.deadline(i) ? 'missed' : 'pending';
      return {
        fault: i.fault,
        kind: i.kind,
        nodeId: i.nodeId,
        startAt: i.startAt,
        endAt: i.endAt === Infinity ? null : i.endAt,
        expect: i.expect,
        detectedAt: i.detectedAt,
        detectedBy: i.detectedBy,
        latencyMs,
        outcome,
      };
    });
  }

  falsePositiveList(): { readonly count: number; readonly first: readonly FalsePositive[] } {
    return { count: this.falsePositiveCount, first: [...this.falsePositives] };
  }
}
