import { describe, expect, it } from 'vitest';
import type { AuditRecord } from 'wyneos';
import type { SeenRecord } from './audit-watch.js';
import {
  acknowledgedNotAudited,
  acknowledgedNotInState,
  auditGaps,
  type Command,
  revivalsWithoutHeartbeat,
  savedStateNotAudited,
} from './invariants.js';
import { WireLog } from './wire.js';

// The chaos test's checks on hand-made histories: each must catch the lie it is named after,
// and must not cry wolf when the history is honest.

let nextSeq = 1;
const record = (type: string, nodeId: string, data: Record<string, unknown>): AuditRecord =>
  ({ v: 1, seq: nextSeq++, at: 0, type, nodeId, data }) as AuditRecord;
const seenAt = (r: AuditRecord, seen: number): SeenRecord => ({
  record: r,
  line: JSON.stringify(r),
  notBefore: seen - 50,
  seen,
});

describe('chaos invariants', () => {
  const offline = record('transition', 'n', { from: 'online', to: 'offline', at: 111 });
  const online = record('transition', 'n', { from: 'offline', to: 'online', at: 222 });
  const history = [seenAt(offline, 10_000), seenAt(online, 20_000)];

  it('flags a node back online with no request of it since it went offline', () => {
    const wire = new WireLog();
    Object.assign(wire.open('n', '/v1/heartbeats', '{}'), { start: 9000, end: 9010 });
    const found = revivalsWithoutHeartbeat(history, wire, []);
    expect(found.examined).toBe(1);
    expect(found.violations).toHaveLength(1);
  });

  it('accepts a revival after a heartbeat, or one a server pause could hide', () => {
    const heard = new WireLog();
    Object.assign(heard.open('n', '/v1/heartbeats', '{}'), { start: 15_000, end: 15_010 });
    expect(revivalsWithoutHeartbeat(history, heard, []).violations).toEqual([]);
    // Decided before a pause, written after it: the heartbeat before the pause may count.
    const before = new WireLog();
    Object.assign(before.open('n', '/v1/heartbeats', '{}'), { start: 7000, end: 7010 });
    const pause = { from: 7500, to: 9990 };
    expect(revivalsWithoutHeartbeat(history, before, [pause]).violations).toEqual([]);
  });

  it('leaves the operator reinstating a silent node alone', () => {
    const isolated = record('transition', 'm', { from: 'offline', to: 'isolated', at: 1 });
    const action = record('action', 'm', {
      tick: 9,
      type: 'reinstate',
      origin: 'operator',
      status: 'applied',
    });
    const back = record('transition', 'm', { from: 'isolated', to: 'online', at: 2, tick: 9 });
    const seen = [seenAt(isolated, 1000), seenAt(action, 2000), seenAt(back, 2000)];
    expect(revivalsWithoutHeartbeat(seen, new WireLog(), []).examined).toBe(0);
    // The same transition in another tick is the supervisor's own doing, and is checked.
    const later = record('transition', 'm', { from: 'isolated', to: 'online', at: 3, tick: 10 });
    const own = [seenAt(isolated, 1000), seenAt(action, 2000), seenAt(later, 2000)];
    expect(revivalsWithoutHeartbeat(own, new WireLog(), []).violations).toHaveLength(1);
  });

  const isolate: Command = {
    nodeId: 'n',
    verb: 'isolate',
    sentAt: 1,
    status: 200,
    node: { state: 'isolated', since: 333 },
  };

  it('flags an acknowledged command the audit log lacks, or the state forgot', () => {
    const records = [
      offline,
      record('transition', 'n', { from: 'offline', to: 'isolated', at: 333 }),
    ];
    expect(acknowledgedNotAudited([isolate], records)).toEqual([]);
    expect(acknowledgedNotAudited([isolate], [offline])).toHaveLength(1);
    expect(acknowledgedNotInState([isolate], records, new Map([['n', 'isolated']]))).toEqual([]);
    expect(acknowledgedNotInState([isolate], records, new Map([['n', 'online']]))).toHaveLength(1);
    // A later command with no answer may have applied: the state can be either.
    const unanswered: Command = { nodeId: 'n', verb: 'reinstate', sentAt: 2, status: undefined };
    expect(
      acknowledgedNotInState([isolate, unanswered], records, new Map([['n', 'online']])),
    ).toEqual([]);
  });

  it('flags an isolation in state.json with no audit record', () => {
    const saved = [{ id: 'n', state: 'isolated', since: 444 }];
    expect(savedStateNotAudited(saved, [offline])).toHaveLength(1);
    const audited = record('transition', 'n', { from: 'online', to: 'isolated', at: 444 });
    expect(savedStateNotAudited(saved, [audited])).toEqual([]);
  });

  it('flags a gap, a repeat and a record that vanished', () => {
    const at = (seq: number, type = 'start') =>
      ({ v: 1, seq, at: 0, type, data: {} }) as AuditRecord;
    expect(auditGaps([at(1), at(2), at(3)], [])).toEqual([]);
    expect(auditGaps([at(1), at(3)], [])).toHaveLength(1);
    expect(auditGaps([at(1), at(2), at(2)], [])).toHaveLength(1);
    expect(auditGaps([at(1)], [seenAt(at(2, 'stop'), 5)])).toHaveLength(1);
  });
});
