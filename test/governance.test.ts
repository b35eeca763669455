import { describe, expect, it } from 'vitest';
import {
  DuplicateRuleError,
  defineRule,
  evaluateRules,
  type FleetSnapshot,
  type GovernanceReport,
  InvalidRuleError,
  type NodeSnapshot,
} from 'wyneos';
import { createNodeSnapshot } from 'wyneos/testing';
import { collect, simulatedSupervisor } from './helpers.js';

function node(id: string, fields: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return createNodeSnapshot({ id, ...fields });
}

const fleet = (nodes: NodeSnapshot[]): FleetSnapshot => ({ tick: 7, at: 7000, nodes });

describe('governance', () => {
  it('counts pass, fail, error and skip per rule and lists only the non-passing results', () => {
    const report = evaluateRules(
      [
        defineRule({
          id: 'max-load',
          description: 'load under 0.9',
          evaluate: (n) => n.load < 0.9,
        }),
        defineRule({
          id: 'eu-only',
          description: 'region is labelled',
          appliesTo: (n) => n.labels.region !== undefined,
          evaluate: (n) => ({
            ok: n.labels.region === 'eu',
            message: `region is ${n.labels.region}`,
          }),
        }),
        defineRule({
          id: 'throws',
          description: 'always throws',
          evaluate: () => {
            throw new Error('boom');
          },
        }),
      ],
      fleet([
        node('a', { load: 0.5, labels: { region: 'eu' } }),
        node('b', { load: 0.95, labels: { region: 'us' } }),
        node('c'),
      ]),
    );
    expect(report.rules).toMatchObject([
      { ruleId: 'max-load', description: 'load under 0.9', pass: 2, fail: 1, error: 0, skip: 0 },
      { ruleId: 'eu-only', description: 'region is labelled', pass: 1, fail: 1, error: 0, skip: 1 },
      { ruleId: 'throws', description: 'always throws', pass: 0, fail: 0, error: 3, skip: 0 },
    ]);
    expect(report.results).toContainEqual({
      ruleId: 'eu-only',
      nodeId: 'b',
      outcome: 'fail',
      severity: 'medium',
      message: 'region is us',
    });
    expect(report.results).toContainEqual({
      ruleId: 'max-load',
      nodeId: 'b',
      outcome: 'fail',
      severity: 'medium',
      message: 'load under 0.9',
    });
    expect(report.results).toContainEqual({
      ruleId: 'throws',
      nodeId: 'a',
      outcome: 'error',
      severity: 'medium',
      message: 'rule threw: boom',
    });
    expect(report.results.some((r) => r.outcome === 'pass')).toBe(false);
    expect(report.results).toHaveLength(5);
    expect(report.nodeCompliance).toEqual({ a: 2 / 3, b: 0, c: 1 / 2 });
    expect(report.fleetCompliance).toBe(0);
    expect(report).toMatchObject({ tick: 7, at: 7000, nodeCount: 3 });
  });

  it('turns a verdict that is neither boolean nor { ok } into an error result', () => {
    const report = evaluateRules(
      [{ id: 'bad', description: 'returns a number', evaluate: () => 1 as never }],
      fleet([node('a')]),
    );
    expect(report.results).toEqual([
      {
        ruleId: 'bad',
        nodeId: 'a',
        outcome: 'error',
        severity: 'medium',
        message: 'rule returned number; expected true, false or { ok, message }',
      },
    ]);
  });

  it('counts a fully compliant fleet as 1, and an empty one too', () => {
    const rule = defineRule({ id: 'r', description: 'always', evaluate: () => true });
    expect(evaluateRules([rule], fleet([node('a'), node('b')])).fleetCompliance).toBe(1);
    expect(evaluateRules([rule], fleet([])).fleetCompliance).toBe(1);
  });

  it('rejects malformed rules and duplicate ids where they are defined', () => {
    expect(() => defineRule({ id: '', description: 'x', evaluate: () => true })).toThrow(
      InvalidRuleError,
    );
    expect(() => defineRule({ id: 'has space', description: 'x', evaluate: () => true })).toThrow(
      /id must be/,
    );
    expect(() => defineRule({ id: 'r', description: '', evaluate: () => true })).toThrow(
      /description/,
    );
    expect(() => defineRule({ id: 'r', description: 'x', evaluate: 'yes' as never })).toThrow(
      /evaluate must be a function/,
    );
    const rule = defineRule({ id: 'r', description: 'x', evaluate: () => true });
    expect(() => simulatedSupervisor({ rules: [rule, rule] })).toThrow(DuplicateRuleError);
  });

  it('evaluates rules on every tick and reports downstream, rule errors included', () => {
    const { sup, advance } = simulatedSupervisor({
      rules: [
        defineRule({
          id: 'max-load',
          description: 'load stays under 95%',
          evaluate: (n) => n.load < 0.95,
        }),
        defineRule({
          id: 'has-mem',
          description: 'reports memory',
          evaluate: (n) => {
            if (n.metrics.mem === undefined) throw new Error('no mem metric');
            return n.metrics.mem < 0.9;
          },
        }),
      ],
    });
    const reports = collect<GovernanceReport>(sup.reports$);
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    sup.heartbeat({ nodeId: 'a', seq: 1, load: 0.42, metrics: { mem: 0.61 } });
    sup.heartbeat({ nodeId: 'b', seq: 1, load: 0.97 });
    advance(1000);
    expect(reports).toHaveLength(1);
    const [report] = reports as [GovernanceReport];
    expect(report.tick).toBe(1);
    expect(report.results).toEqual([
      {
        ruleId: 'max-load',
        nodeId: 'b',
        outcome: 'fail',
        severity: 'medium',
        message: 'load stays under 95%',
      },
      {
        ruleId: 'has-mem',
        nodeId: 'b',
        outcome: 'error',
        severity: 'medium',
        message: 'rule threw: no mem metric',
      },
    ]);
    expect(report.nodeCompliance).toEqual({ b: 0 });
    expect(report.fleetCompliance).toBe(0.5);
    expect(sup.report()).toBe(report);
    // The tick went on: both nodes are still evaluated on the next one.
    sup.heartbeat({ nodeId: 'b', seq: 2, load: 0.5, metrics: { mem: 0.2 } });
    advance(1000);
    expect(reports[1]?.fleetCompliance).toBe(1);
  });

  it('gives rules a read-only view: labels and metrics cannot be changed through it', () => {
    const { sup, advance } = simulatedSupervisor({
      rules: [
        defineRule({
          id: 'vandal',
          description: 'tries to write',
          evaluate: (n) => {
            (n.labels as Record<string, string>).region = 'mars';
            return true;
          },
        }),
      ],
    });
    sup.register({ id: 'a', labels: { region: 'eu' } });
    advance(1000);
    expect(sup.report()?.results[0]?.outcome).toBe('error');
    expect(sup.node('a')?.labels).toEqual({ region: 'eu' });
  });
});
