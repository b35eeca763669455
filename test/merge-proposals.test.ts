import { describe, expect, it } from 'vitest';
import { type ActionRecord, defineRule, maxLoad } from 'wyneos';
import { invariants, type Violation } from 'wyneos/testing';
import { mergeProposals } from '../src/healing/index.js';
import type { ActionProposal } from '../src/types.js';
import { collect, simulatedSupervisor } from './helpers.js';

const overload = { high: 0.9, low: 0.5, ticks: 2 };

describe('one action per need', () => {
  it('gives an overloaded node one reduce-load when healing and a max-load rule both ask, and runs its hook once', async () => {
    const calls: string[] = [];
    const { sup, advance } = simulatedSupervisor({
      overload,
      rules: [maxLoad(0.9, { enforcement: 'reduce-load', for: 2 })],
      onAction: { 'reduce-load': async (action) => void calls.push(action.reason) },
    });
    const records = collect<ActionRecord>(sup.actions$);
    sup.register({ id: 'hot' });
    for (let seq = 1; seq <= 3; seq++) {
      sup.heartbeat({ nodeId: 'hot', seq, load: 0.95 });
      advance(1000);
    }
    await sup.stop();
    const applied = records.filter((r) => r.type === 'reduce-load' && r.status === 'applied');
    expect(applied).toHaveLength(1);
    const [action] = applied as [ActionRecord];
    expect(action.origin).toBe('healing');
    expect(action.causes?.map((c) => [c.origin, c.ruleId])).toEqual([
      ['healing', undefined],
      ['governance', 'max-load'],
    ]);
    expect(action.reason).toBe(
      'load at or over 0.9 for 2 ticks; rule max-load failed for 2 ticks: load 0.95 is above the maximum 0.9',
    );
    expect(calls).toEqual([action.reason]);
  });

  it('isolates once for healing and a rule together, under the lead of the one the limits never hold', () => {
    const at = 5000;
    const isolate = (origin: ActionProposal['origin'], reason: string, ruleId?: string) =>
      ({
        origin,
        action: {
          type: 'isolate',
          nodeId: 'n',
          reason,
          tick: 5,
          at,
          ...(ruleId ? { ruleId } : {}),
        },
        event: {
          type: 'ISOLATE',
          at,
          reason,
          ...(origin === 'healing' ? { reinstateAt: 9000 } : {}),
        },
      }) as ActionProposal;
    const warn: ActionProposal = {
      origin: 'governance',
      action: { type: 'warn', nodeId: 'm', reason: 'old version', tick: 5, at, ruleId: 'v' },
    };
    const merged = mergeProposals([
      isolate('governance', 'rule r failed', 'r'),
      warn,
      isolate('healing', 'flapping'),
      isolate('licence', 'licence: revoked'),
    ]);
    expect(merged).toHaveLength(2);
    expect(merged[0]).toMatchObject({
      origin: 'licence',
      action: { reason: 'rule r failed; flapping; licence: revoked' },
      event: { type: 'ISOLATE', reason: 'rule r failed; flapping; licence: revoked' },
    });
    expect(merged[0]?.event).not.toHaveProperty('reinstateAt');
    expect(merged[1]).toBe(warn);
  });

  it('leaves proposals for different types or nodes as they are', () => {
    const rule = defineRule({ id: 'x', description: 'x', evaluate: () => true });
    const p = (type: 'warn' | 'reduce-load', nodeId: string): ActionProposal => ({
      origin: 'governance',
      action: { type, nodeId, reason: rule.id, tick: 1, at: 0, ruleId: rule.id },
    });
    const proposals = [p('warn', 'a'), p('reduce-load', 'a'), p('warn', 'b')];
    expect(mergeProposals(proposals)).toEqual(proposals);
  });

  it('no-duplicate-action flags two actions of one type for one node in one tick', () => {
    const violations: Violation[] = [];
    const monitor = invariants.noDuplicateAction.monitor(
      {} as Parameters<typeof invariants.noDuplicateAction.monitor>[0],
      (v) => violations.push(v),
    );
    const record = (id: string, origin: ActionRecord['origin'], ruleId?: string): ActionRecord => ({
      id,
      type: 'reduce-load',
      nodeId: 'hot',
      reason: 'hot',
      tick: 3,
      at: 3000,
      status: 'applied',
      origin,
      ...(ruleId ? { ruleId } : {}),
    });
    monitor.action?.(record('action-1', 'healing'));
    monitor.action?.(record('action-2', 'governance', 'max-load'));
    expect(violations.map((v) => v.message)).toEqual([
      'reduce-load applied twice in tick 3 (action action-2)',
    ]);
  });
});
