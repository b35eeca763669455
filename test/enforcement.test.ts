import { describe, expect, it } from 'vitest';
import { defineRule, type GovernanceReport, type NodeTransition, type Rule } from 'wyneos';
import { collect, collectApplied, simulatedSupervisor } from './helpers.js';

/** A rule that fails while a node's `bad` metric is 1. */
function badMetric(overrides: Partial<Rule> = {}): Rule {
  return defineRule({
    id: 'no-bad',
    description: 'the bad metric is 0',
    evaluate: (n) => ({ ok: n.metrics.bad !== 1, observed: n.metrics.bad, expected: 0 }),
    ...overrides,
  });
}

function fleet(rule: Rule) {
  const f = simulatedSupervisor({ rules: [rule] });
  const actions = collectApplied(f.sup);
  const reports = collect<GovernanceReport>(f.sup.reports$);
  const transitions = collect<NodeTransition>(f.sup.transitions$);
  f.sup.registerMany([
    { id: 'a', labels: { region: 'eu' } },
    { id: 'b', labels: { region: 'us' } },
  ]);
  let seq = 0;
  /** One tick in which each listed node reports bad=1 and the others bad=0. */
  const tick = (...badNodes: string[]) => {
    seq++;
    for (const nodeId of ['a', 'b']) {
      f.sup.heartbeat({
        nodeId,
        seq,
        load: 0.1,
        metrics: { bad: badNodes.includes(nodeId) ? 1 : 0 },
      });
    }
    f.advance(1000);
  };
  return { ...f, actions, reports, transitions, tick };
}

describe('enforcement', () => {
  it('isolates after `for` consecutive failing ticks, once, naming the rule', () => {
    const f = fleet(badMetric({ enforcement: 'isolate', for: 3, severity: 'high' }));
    f.tick('a');
    f.tick('a');
    expect(f.sup.node('a')?.state).toBe('online');
    f.tick('a');
    expect(f.sup.node('a')).toMatchObject({
      state: 'isolated',
      reason: 'rule no-bad failed for 3 ticks: the bad metric is 0',
    });
    expect(f.actions).toEqual([
      {
        type: 'isolate',
        nodeId: 'a',
        reason: 'rule no-bad failed for 3 ticks: the bad metric is 0',
        tick: 3,
        at: 3000,
        ruleId: 'no-bad',
      },
    ]);
    f.tick('a');
    expect(f.actions).toHaveLength(1);
  });

  it('starts the count again after a passing tick', () => {
    const f = fleet(badMetric({ enforcement: 'isolate', for: 2 }));
    f.tick('a');
    f.tick();
    f.tick('a');
    expect(f.sup.node('a')?.state).toBe('online');
    f.tick('a');
    expect(f.sup.node('a')?.state).toBe('isolated');
  });

  it('grades enforcement: audit reports, warn and reduce-load emit actions without a transition', () => {
    for (const [enforcement, expected] of [
      ['audit', []],
      ['warn', ['warn']],
      ['reduce-load', ['reduce-load']],
      ['deny', []],
    ] as const) {
      const f = fleet(badMetric({ enforcement, admission: false }));
      f.tick('b');
      expect(
        f.actions.map((a) => a.type),
        enforcement,
      ).toEqual(expected);
      expect(f.transitions, enforcement).toEqual([]);
      expect(f.reports[0]?.results).toMatchObject([
        { ruleId: 'no-bad', nodeId: 'b', outcome: 'fail', observed: 1, expected: 0 },
      ]);
    }
  });

  it('fails open on errors by default, and counts them as failures with onError: fail', () => {
    const throwing = (onError: 'fail' | 'skip') =>
      defineRule({
        id: 'fragile',
        description: 'throws on bad nodes',
        enforcement: 'isolate',
        onError,
        evaluate: (n) => {
          if (n.metrics.bad === 1) throw new Error('cannot judge');
          return true;
        },
      });
    const open = fleet(throwing('skip'));
    open.tick('a');
    expect(open.sup.node('a')?.state).toBe('online');
    expect(open.reports[0]?.results[0]).toMatchObject({
      outcome: 'error',
      message: 'rule threw: cannot judge',
    });
    const closed = fleet(throwing('fail'));
    closed.tick('a');
    expect(closed.sup.node('a')?.state).toBe('isolated');
  });

  it('reports what changed since the previous tick', () => {
    const f = fleet(badMetric());
    f.tick('a');
    f.tick('a', 'b');
    f.tick('b');
    expect(f.reports.map((r) => r.changes)).toEqual([
      { newlyFailing: [{ ruleId: 'no-bad', nodeId: 'a' }], resolved: [] },
      { newlyFailing: [{ ruleId: 'no-bad', nodeId: 'b' }], resolved: [] },
      { newlyFailing: [], resolved: [{ ruleId: 'no-bad', nodeId: 'a' }] },
    ]);
  });

  it('treats a warning verdict as compliant but reports it', () => {
    const f = fleet(
      defineRule({
        id: 'soon',
        description: 'not near a limit',
        enforcement: 'isolate',
        evaluate: (n) => ({ ok: n.metrics.bad !== 1, warn: true, message: 'close to the limit' }),
      }),
    );
    f.tick('a');
    const [report] = f.reports;
    expect(report?.results).toMatchObject([
      { nodeId: 'a', outcome: 'warn', message: 'close to the limit' },
    ]);
    expect(report?.rules[0]).toMatchObject({ warn: 1, pass: 1, fail: 0 });
    expect(report?.nodeCompliance).toEqual({});
    expect(report?.fleetCompliance).toBe(1);
    expect(f.sup.node('a')?.state).toBe('online');
  });

  it('applies a rule only to the nodes its label selector matches', () => {
    const f = fleet(badMetric({ appliesTo: { region: ['eu', 'apac'] } }));
    f.tick('a', 'b');
    const [report] = f.reports;
    expect(report?.rules[0]).toMatchObject({ fail: 1, skip: 1 });
    expect(report?.results.map((r) => r.nodeId)).toEqual(['a']);
  });

  it('gives every report its own run id and the policy version', () => {
    const f = simulatedSupervisor({ policy: { version: '2026-11-26.1', rules: [badMetric()] } });
    const reports = collect<GovernanceReport>(f.sup.reports$);
    f.advance(2000);
    expect(reports.map((r) => r.policyVersion)).toEqual(['2026-11-26.1', '2026-11-26.1']);
    expect(reports[0]?.runId).not.toBe(reports[1]?.runId);
    expect(reports[0]?.runId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
