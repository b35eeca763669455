import { LicenceRefusedError } from '../errors.js';
import type { ActionProposal, Labels, NodeState } from '../types.js';
import type { ResolvedLicensing } from './options.js';
import type { RevocationList } from './revocations.js';
import type { Licence, LicenceEvent, LicenceStatus, NodeLicence } from './types.js';
import { checkLicence } from './verify.js';

/** A node presenting itself for admission. */
export interface LicenceCandidate {
  readonly id: string;
  readonly labels?: Labels | undefined;
  readonly licence?: string | undefined;
}

interface Entry {
  readonly nodeId: string;
  readonly token: string;
  readonly licence: Licence | undefined;
  status: LicenceStatus;
  /** Why it is invalid: a restored licence whose key is no longer trusted. */
  invalid: string | undefined;
  /** When it went bad (expired, revoked or invalid); the grace counts from here. */
  badSince: number | undefined;
  gated: boolean;
}

/** What one tick's licence check decided. */
export interface LicenceTick {
  readonly proposals: ActionProposal[];
  readonly events: LicenceEvent[];
  /** Nodes whose licence status changed this tick (trust reads these). */
  readonly changed: Array<{ readonly nodeId: string; readonly status: LicenceStatus }>;
}

const noChange: LicenceTick = Object.freeze({ proposals: [], events: [], changed: [] });

/**
 * Every node's licence and its status. Admission checks a licence once (signature, subject,
 * window, revocation, `maxNodes`); each tick then needs only times and the revocation list, so
 * it skips the fleet entirely until the next deadline (a warning, an expiry, the end of a
 * grace) or a new revocation: a quiet tick costs O(1).
 */
export class LicenceBook {
  private readonly entries = new Map<string, Entry>();
  private readonly holders = new Map<string, Set<string>>();
  private nextCheckAt = Number.NEGATIVE_INFINITY;
  private seenRevocations = -1;

  constructor(
    readonly options: ResolvedLicensing,
    readonly revocations: RevocationList,
  ) {}

  /**
   * Checks every candidate's licence; all or nothing, like `registerMany`. Throws
   * LicenceRefusedError for the first refused one. Returns the licences to attach.
   */
  admit(
    candidates: readonly LicenceCandidate[],
    at: number,
  ): Map<string, { licence: Licence; token: string }> {
    const admitted = new Map<string, { licence: Licence; token: string }>();
    const added = new Map<string, number>();
    for (const candidate of candidates) {
      if (candidate.licence === undefined && !this.options.required) continue;
      const node = { id: candidate.id, labels: candidate.labels ?? {} };
      const check = checkLicence(candidate.licence, this.options.keys, {
        at,
        node,
        ...(this.options.issuer === undefined ? {} : { issuer: this.options.issuer }),
      });
      if (!check.ok) throw new LicenceRefusedError(candidate.id, check.reason, check.message);
      const { licence } = check;
      const revoked = this.revocations.get(licence.id);
      if (revoked !== undefined) {
        throw new LicenceRefusedError(
          candidate.id,
          'revoked',
          `licence ${licence.id} was revoked: ${revoked.reason}`,
          licence.id,
        );
      }
      if (licence.maxNodes !== undefined) {
        const held = (this.holders.get(licence.id)?.size ?? 0) + (added.get(licence.id) ?? 0);
        if (held >= licence.maxNodes) {
          throw new LicenceRefusedError(
            candidate.id,
            'fleet-full',
            `licence ${licence.id} allows ${licence.maxNodes} nodes, all taken`,
            licence.id,
          );
        }
        added.set(licence.id, (added.get(licence.id) ?? 0) + 1);
      }
      admitted.set(candidate.id, { licence, token: candidate.licence as string });
    }
    return admitted;
  }

  /**
   * A registered node presents a new licence (a renewal, before or after the old one lapsed).
   * Checked like an admission; the old licence stops counting toward its `maxNodes`. Throws
   * LicenceRefusedError and keeps the old one.
   */
  renew(candidate: LicenceCandidate, at: number): Licence {
    this.forget(candidate.id);
    const old = this.forgotten;
    let admitted: { licence: Licence; token: string } | undefined;
    try {
      admitted = this.admit([candidate], at).get(candidate.id);
      if (admitted === undefined) {
        throw new LicenceRefusedError(candidate.id, 'missing', 'no licence was presented');
      }
    } catch (error) {
      if (old !== undefined) this.add(old);
      throw error;
    }
    const { licence, token } = admitted;
    this.attach(candidate.id, licence, token);
    return licence;
  }

  /** Records an admitted node's licence. */
  attach(nodeId: string, licence: Licence, token: string): void {
    this.add({
      nodeId,
      token,
      licence,
      status: 'valid',
      invalid: undefined,
      badSince: undefined,
      gated: false,
    });
  }

  /**
   * Puts back a licence from the saved state. Its signature is checked again against the keys
   * trusted now (a key dropped since makes it `invalid`); its times are the tick's business.
   */
  restore(nodeId: string, token: string, at: number): string | undefined {
    const check = checkLicence(token, this.options.keys, {
      at,
      ignoreTime: true,
      ...(this.options.issuer === undefined ? {} : { issuer: this.options.issuer }),
    });
    const licence = check.ok ? check.licence : undefined;
    const invalid = check.ok ? undefined : `${check.reason}: ${check.message}`;
    this.add({
      nodeId,
      token,
      licence,
      status: 'valid',
      invalid,
      badSince: undefined,
      gated: false,
    });
    return invalid;
  }

  // The entry `forget` removed last, so a refused renewal can put it back.
  private forgotten: Entry | undefined;

  forget(nodeId: string): void {
    const entry = this.entries.get(nodeId);
    this.forgotten = entry;
    if (entry === undefined) return;
    this.entries.delete(nodeId);
    if (entry.licence !== undefined) this.holders.get(entry.licence.id)?.delete(nodeId);
  }

  has(nodeId: string): boolean {
    return this.entries.has(nodeId);
  }

  get size(): number {
    return this.entries.size;
  }

  token(nodeId: string): string | undefined {
    return this.entries.get(nodeId)?.token;
  }

  view(nodeId: string, at: number): NodeLicence | undefined {
    const entry = this.entries.get(nodeId);
    if (entry?.licence === undefined) return undefined;
    const status = this.statusOf(entry, at);
    const reason =
      status === 'revoked' ? this.revocations.get(entry.licence.id)?.reason : entry.invalid;
    const badSince = entry.badSince ?? this.badSince(entry, status, at);
    return {
      nodeId,
      licence: entry.licence,
      status,
      ...(reason === undefined ? {} : { reason }),
      ...(badSince === undefined ? {} : { gateAt: badSince + this.options.graceMs }),
    };
  }

  /**
   * One tick: warns of licences near expiry, and gates (isolates, origin `licence`) nodes whose
   * licence expired, was revoked or is invalid, once the grace is over. A gated node that an
   * operator reinstates stays reinstated: the operator's word is the last one.
   */
  tick(tick: number, at: number, stateOf: (nodeId: string) => NodeState | undefined): LicenceTick {
    if (at < this.nextCheckAt && this.seenRevocations === this.revocations.version) return noChange;
    this.seenRevocations = this.revocations.version;
    const result: LicenceTick = { proposals: [], events: [], changed: [] };
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.entries.values()) {
      const status = this.statusOf(entry, at);
      if (status !== entry.status) this.changeStatus(entry, status, tick, at, result);
      if (status === 'valid' || status === 'expiring') {
        const expiresAt = (entry.licence as Licence).expiresAt;
        next = Math.min(
          next,
          status === 'valid' ? expiresAt - this.options.warnBeforeMs : expiresAt,
        );
        continue;
      }
      if (entry.gated) continue;
      const gateAt = (entry.badSince as number) + this.options.graceMs;
      const state = stateOf(entry.nodeId);
      if (at < gateAt || state === 'isolated' || state === undefined) {
        // An isolated node is gated when it comes back: look again next tick.
        next = Math.min(next, Math.max(at, gateAt));
        continue;
      }
      entry.gated = true;
      const reason = `licence: ${status}${this.detail(entry, status)}`;
      result.proposals.push({
        origin: 'licence',
        action: { type: 'isolate', nodeId: entry.nodeId, reason, tick, at },
        event: { type: 'ISOLATE', at, reason },
      });
      result.events.push({ type: 'gated', at, nodeId: entry.nodeId, reason, ...this.idOf(entry) });
    }
    this.nextCheckAt = next;
    return result;
  }

  private changeStatus(
    entry: Entry,
    status: LicenceStatus,
    tick: number,
    at: number,
    result: LicenceTick,
  ): void {
    entry.status = status;
    result.changed.push({ nodeId: entry.nodeId, status });
    const ids = { nodeId: entry.nodeId, ...this.idOf(entry) };
    if (status === 'expiring') {
      const expiresAt = (entry.licence as Licence).expiresAt;
      const reason = `licence: expires in ${Math.max(0, Math.round((expiresAt - at) / 1000))} s`;
      result.proposals.push({
        origin: 'licence',
        action: { type: 'warn', nodeId: entry.nodeId, reason, tick, at },
      });
      result.events.push({ type: 'expiring', at, ...ids, reason });
      return;
    }
    if (status === 'valid') return;
    entry.badSince = this.badSince(entry, status, at);
    const type = status === 'invalid' ? 'revoked' : status;
    result.events.push({ type, at, ...ids, reason: `${status}${this.detail(entry, status)}` });
  }

  private statusOf(entry: Entry, at: number): LicenceStatus {
    const { licence } = entry;
    if (licence === undefined || entry.invalid !== undefined) return 'invalid';
    if (this.revocations.get(licence.id) !== undefined) return 'revoked';
    if (at >= licence.expiresAt) return 'expired';
    if (at >= licence.expiresAt - this.options.warnBeforeMs) return 'expiring';
    return 'valid';
  }

  // The grace counts from when the licence really went bad, not from when a tick noticed.
  private badSince(entry: Entry, status: LicenceStatus, at: number): number | undefined {
    if (status === 'expired') return entry.licence?.expiresAt;
    if (status === 'revoked') return this.revocations.get(entry.licence?.id ?? '')?.at ?? at;
    if (status === 'invalid') return at;
    return undefined;
  }

  private detail(entry: Entry, status: LicenceStatus): string {
    if (status === 'revoked')
      return ` (${this.revocations.get(entry.licence?.id ?? '')?.reason ?? ''})`;
    if (status === 'invalid') return ` (${entry.invalid})`;
    return '';
  }

  private idOf(entry: Entry): { licenceId?: string } {
    return entry.licence === undefined ? {} : { licenceId: entry.licence.id };
  }

  private add(entry: Entry): void {
    this.entries.set(entry.nodeId, entry);
    if (entry.licence !== undefined) {
      const set = this.holders.get(entry.licence.id) ?? new Set<string>();
      set.add(entry.nodeId);
      this.holders.set(entry.licence.id, set);
    }
    this.nextCheckAt = Number.NEGATIVE_INFINITY;
  }
}
