import { describe, expect, it } from 'vitest';
import { defineRule, type GovernanceReport, InvalidExemptionError } from 'wyneos';
import { collect, simulatedSupervisor } from './helpers.js';

const noBad = defineRule({
  id: 'no-bad',
  description: 'the bad metric is 0',
  enforcement: 'isolate',
  evaluate: (n) => n.metrics.bad !== 1,
});

function badFleet() {
  // No isolation cap here: these tests are about exemptions, not safety limits.
  const f = simulatedSupervisor({ rules: [noBad], safety: { maxIsolatedFraction: 1 } });
  const reports = collect<GovernanceReport>(f.sup.reports$);
  f.sup.registerMany([
    { id: 'a', labels: { team: 'infra' } },
    { id: 'b', labels: { team: 'infra' } },
    { id: 'c', labels: { team: 'web' } },
  ]);
  let seq = 0;
  const tick = () => {
    seq++;
    for (const nodeId of ['a', 'b', 'c'])
      f.sup.heartbeat({ nodeId, seq, load: 0.1, metrics: { bad: 1 } });
    f.advance(1000);
  };
  return { ...f, reports, tick };
}

describe('exemptions', () => {
  it('turns a node’s results into skip, names the exemption, and holds enforcement back', () => {
    const f = badFleet();
    const exemption = f.sup.exempt({
      ruleId: 'no-bad',
      nodeId: 'a',
      until: 60_000,
      reason: 'ticket OPS-12',
    });
    f.tick();
    const report = f.reports[0] as GovernanceReport;
    expect(report.results).toContainEqual({
      ruleId: 'no-bad',
      nodeId: 'a',
      outcome: 'skip',
      severity: 'medium',
      message: 'exempted: ticket OPS-12',
      exemption: { id: exemption.id, reason: 'ticket OPS-12', until: 60_000 },
    });
    expect(report.rules[0]).toMatchObject({ fail: 2, skip: 1 });
    expect(f.sup.node('a')?.state).toBe('online');
    expect(f.sup.node('b')?.state).toBe('isolated');
  });

  it('exempts every node a selector matches', () => {
    const f = badFleet();
    f.sup.exempt({
      ruleId: 'no-bad',
      selector: { team: 'infra' },
      until: 60_000,
      reason: 'migration',
    });
    f.tick();
    expect(f.sup.nodes().map((n) => n.state)).toEqual(['online', 'online', 'isolated']);
  });

  it('expires on its own', () => {
    const f = badFleet();
    f.sup.exempt({ ruleId: 'no-bad', nodeId: 'a', until: 2500, reason: 'short' });
    f.tick();
    f.tick();
    expect(f.sup.exemptions()).toHaveLength(1);
    expect(f.sup.node('a')?.state).toBe('online');
    f.tick();
    expect(f.sup.exemptions()).toEqual([]);
    expect(f.sup.node('a')?.state).toBe('isolated');
  });

  it('accepts a Date or an ISO string for until', () => {
    const f = badFleet();
    const fromDate = f.sup.exempt({
      ruleId: 'no-bad',
      nodeId: 'a',
      until: new Date(5000),
      reason: 'r',
    });
    const fromString = f.sup.exempt({
      ruleId: 'no-bad',
      nodeId: 'b',
      until: '1970-01-01T00:00:07Z',
      reason: 'r',
    });
    expect([fromDate.until, fromString.until]).toEqual([5000, 7000]);
  });

  it('rejects malformed exemptions with the field named', () => {
    const f = badFleet();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ruleId: 'nope', nodeId: 'a', until: 10_000, reason: 'r' }, 'ruleId'],
      [{ ruleId: 'no-bad', until: 10_000, reason: 'r' }, 'nodeId'],
      [
        { ruleId: 'no-bad', nodeId: 'a', selector: { team: 'web' }, until: 10_000, reason: 'r' },
        'nodeId',
      ],
      [{ ruleId: 'no-bad', selector: { team: 3 }, until: 10_000, reason: 'r' }, 'selector'],
      [{ ruleId: 'no-bad', nodeId: 'a', until: 0, reason: 'r' }, 'until'],
      [{ ruleId: 'no-bad', nodeId: 'a', until: 'tomorrow', reason: 'r' }, 'until'],
      [{ ruleId: 'no-bad', nodeId: 'a', until: 10_000, reason: ' ' }, 'reason'],
    ];
    for (const [request, field] of cases) {
      let error: unknown;
      try {
        f.sup.exempt(request as never);
      } catch (err) {
        error = err;
      }
      expect(error, JSON.stringify(request)).toBeInstanceOf(InvalidExemptionError);
      expect((error as InvalidExemptionError).field).toBe(field);
    }
    expect(f.sup.exemptions()).toEqual([]);
  });
});
