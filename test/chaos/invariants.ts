import type { AuditRecord } from 'wyneos';
import type { SeenRecord } from './audit-watch.js';
import type { WireLog } from './wire.js';

// The chaos test's invariants, as pure functions of what the harness recorded: the audit
// records with when they were first seen, every request of every node, the operator commands
// and what they were answered. Each returns the violations, with the evidence, so a failure
// says what lied and when.

export interface Interval {
  readonly from: number;
  readonly to: number;
}

/** An operator command as the harness sent it and was answered. */
export interface Command {
  readonly nodeId: string;
  readonly verb: 'isolate' | 'reinstate';
  readonly sentAt: number;
  /** The HTTP status, or undefined when no answer came (the command may or may not apply). */
  readonly status: number | undefined;
  /** The node in a 2xx answer. */
  readonly node?: { readonly state: string; readonly since: number };
}

export const acknowledged = (c: Command): boolean =>
  c.status !== undefined && c.status >= 200 && c.status < 300;

type Data = Record<string, unknown>;
const data = (r: AuditRecord) => r.data as Data;

/** How much earlier than its record a decision may have been taken: a tick and some. */
const slackMs = 500;

/**
 * No node leaves offline (or isolated, other than by the operator) unless one of its requests
 * could have reached the server after it went there. A decision is taken at most `slackMs`
 * before its record was first not yet seen, or before the server pause it fell in.
 */
export function revivalsWithoutHeartbeat(
  seen: readonly SeenRecord[],
  wire: WireLog,
  serverPauses: readonly Interval[],
  during: (at: number) => string = () => '',
): { examined: number; violations: string[] } {
  const violations: string[] = [];
  let examined = 0;
  const byNode = new Map<string, SeenRecord[]>();
  for (const s of seen) {
    const id = s.record.nodeId;
    if (id === undefined) continue;
    byNode.set(id, [...(byNode.get(id) ?? []), s]);
  }
  for (const [nodeId, records] of byNode) {
    records.forEach((s, i) => {
      const r = s.record;
      const from = data(r).from;
      if (r.type !== 'transition' || data(r).to !== 'online') return;
      if (from !== 'offline' && from !== 'isolated') return;
      // The operator's reinstatement is recorded beside its transition, in the same tick.
      const near = records.slice(Math.max(0, i - 3), i + 4).map((n) => n.record);
      if (from === 'isolated' && near.some((n) => byOperator(n, data(r).tick))) return;
      const before = records
        .slice(0, i)
        .reverse()
        .find((o) => o.record.type === 'transition' && data(o.record).to === from);
      if (before === undefined) return;
      examined++;
      let earliest = before.notBefore - slackMs;
      for (const pause of serverPauses) {
        if (pause.from <= before.seen && pause.to >= earliest) {
          earliest = Math.min(earliest, pause.from - slackMs);
        }
      }
      if (!wire.heardBetween(nodeId, earliest, s.seen)) {
        violations.push(
          `${nodeId}: ${from} (seq ${before.record.seq}) → online (seq ${r.seq}, "${String(
            data(r).reason,
          )}") with no request of it for ${s.seen - earliest} ms ${during(s.seen)}`.trim(),
        );
      }
    });
  }
  return { examined, violations };
}

function byOperator(r: AuditRecord, tick: unknown): boolean {
  return (
    r.type === 'action' &&
    data(r).tick === tick &&
    data(r).origin === 'operator' &&
    data(r).type === 'reinstate' &&
    data(r).status === 'applied'
  );
}

/** Whether the audit log holds the change that put a node in `state` at `since`. */
function audited(records: readonly AuditRecord[], nodeId: string, state: string, since: number) {
  return records.some(
    (r) =>
      r.nodeId === nodeId &&
      data(r).at === since &&
      ((r.type === 'transition' && data(r).to === state) ||
        (r.type === 'admission' && (state === 'isolated') === (data(r).isolated === true))),
  );
}

/** Every acknowledged command's answer (state and since) is in the audit log. */
export function acknowledgedNotAudited(
  commands: readonly Command[],
  records: readonly AuditRecord[],
): string[] {
  return commands
    .filter((c) => acknowledged(c) && c.node !== undefined)
    .filter((c) => !audited(records, c.nodeId, c.node?.state ?? '', c.node?.since ?? Number.NaN))
    .map(
      (c) =>
        `${c.verb} ${c.nodeId} answered ${c.status} (${c.node?.state} since ${c.node?.since}) has no audit record`,
    );
}

/**
 * The state now honours each node's last acknowledged command, unless a command sent later was
 * not answered (it may have applied), or, for a reinstatement, the supervisor itself isolated
 * the node again afterwards (it says so in the audit log).
 */
export function acknowledgedNotInState(
  commands: readonly Command[],
  records: readonly AuditRecord[],
  states: ReadonlyMap<string, string>,
): string[] {
  const violations: string[] = [];
  const nodes = new Set(commands.map((c) => c.nodeId));
  for (const nodeId of nodes) {
    const mine = commands.filter((c) => c.nodeId === nodeId);
    const lastAck = mine.findLast(acknowledged);
    if (lastAck === undefined) continue;
    if (mine.some((c) => c.sentAt > lastAck.sentAt && !acknowledged(c))) continue;
    const state = states.get(nodeId);
    if (lastAck.verb === 'isolate' && state !== 'isolated') {
      violations.push(`${nodeId}: isolated by an acknowledged command, but ${state} now`);
    }
    if (lastAck.verb === 'reinstate' && state === 'isolated') {
      // By seq, not by `at`: the server's wall clock jumps.
      const answered = records.find(
        (r) => r.nodeId === nodeId && r.type === 'transition' && data(r).at === lastAck.node?.since,
      );
      const reisolated = records.some(
        (r) =>
          r.nodeId === nodeId &&
          r.type === 'transition' &&
          data(r).to === 'isolated' &&
          r.seq > (answered?.seq ?? 0),
      );
      if (!reisolated) {
        violations.push(`${nodeId}: reinstated by an acknowledged command, but isolated now`);
      }
    }
  }
  return violations;
}

/** Each isolated node of a saved state has the audit record of its isolation. */
export function savedStateNotAudited(
  saved: readonly { id: string; state: string; since: number }[],
  records: readonly AuditRecord[],
): string[] {
  return saved
    .filter((n) => n.state === 'isolated' && !audited(records, n.id, n.state, n.since))
    .map((n) => `${n.id}: isolated since ${n.since} in state.json, not in the audit log`);
}

/**
 * Seqs run 1, 2, 3, ... with no gap and no repeat, and every line the harness ever saw is still
 * there (a record once flushed is never taken back).
 */
export function auditGaps(records: readonly AuditRecord[], seen: readonly SeenRecord[]): string[] {
  const violations: string[] = [];
  records.forEach((r, i) => {
    if (r.seq !== i + 1) {
      const previous = records[i - 1]?.seq;
      violations.push(`record ${i + 1} has seq ${r.seq} (after ${previous})`);
    }
  });
  const now = new Set(records.map((r) => JSON.stringify(r)));
  for (const s of seen) {
    if (!now.has(JSON.stringify(s.record))) {
      violations.push(`seq ${s.record.seq} (${s.record.type}) was written, then vanished`);
    }
  }
  return violations.slice(0, 20);
}
