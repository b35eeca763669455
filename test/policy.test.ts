import { describe, expect, it } from 'vitest';
import {
  defineRule,
  type GovernanceReport,
  InvalidRuleError,
  type Policy,
  UnknownNodeError,
} from 'wyneos';
import { collect, simulatedSupervisor } from './helpers.js';

const maxLoad = (max: number) =>
  defineRule({
    id: 'max-load',
    description: `load at most ${max}`,
    evaluate: (n) => ({ ok: n.load <= max, observed: n.load, expected: `<= ${max}` }),
  });

describe('policy', () => {
  it('swaps the policy between ticks, and a swap during a tick waits for the next', () => {
    const f = simulatedSupervisor({ policy: { version: 'v1', rules: [maxLoad(0.9)] } });
    const reports = collect<GovernanceReport>(f.sup.reports$);
    f.sup.register({ id: 'a' });
    f.sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.5 });
    f.sup.reports$.subscribe((report) => {
      if (report.tick === 1) f.sup.setPolicy({ version: 'v2', rules: [maxLoad(0.4)] });
    });
    f.advance(2000);
    expect(reports.map((r) => [r.policyVersion, r.rules[0]?.fail])).toEqual([
      ['v1', 0],
      ['v2', 1],
    ]);
    expect(f.sup.policy().version).toBe('v2');
  });

  it('keeps the old policy when the new one is invalid', () => {
    const f = simulatedSupervisor({ policy: { version: 'v1', rules: [maxLoad(0.9)] } });
    expect(() =>
      f.sup.setPolicy({
        version: 'v2',
        rules: [{ id: 'x', description: '', evaluate: () => true }],
      }),
    ).toThrow(InvalidRuleError);
    expect(() => f.sup.setPolicy({ version: '', rules: [] } as Policy)).toThrow(/version/);
    expect(f.sup.policy().version).toBe('v1');
  });

  it('explains one node: every rule, passes included, with observed and expected', () => {
    const f = simulatedSupervisor({
      rules: [
        maxLoad(0.9),
        defineRule({
          id: 'labelled',
          description: 'has a team label',
          evaluate: (n) => 'team' in n.labels,
        }),
        defineRule({
          id: 'web-only',
          description: 'web nodes report a queue',
          appliesTo: { team: 'web' },
          evaluate: (n) => n.metrics.queue !== undefined,
        }),
      ],
    });
    f.sup.register({ id: 'a' });
    f.sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.5 });
    expect(f.sup.explain('a')).toEqual([
      {
        ruleId: 'max-load',
        nodeId: 'a',
        outcome: 'pass',
        severity: 'medium',
        message: 'load at most 0.9',
      },
      {
        ruleId: 'labelled',
        nodeId: 'a',
        outcome: 'fail',
        severity: 'medium',
        message: 'has a team label',
      },
      {
        ruleId: 'web-only',
        nodeId: 'a',
        outcome: 'skip',
        severity: 'medium',
        message: 'the rule does not apply to this node',
      },
    ]);
    f.sup.heartbeat({ nodeId: 'a', seq: 2, load: 0.95 });
    expect(f.sup.explain('a')[0]).toMatchObject({
      outcome: 'fail',
      observed: 0.95,
      expected: '<= 0.9',
    });
    expect(() => f.sup.explain('nope')).toThrow(UnknownNodeError);
  });
});
