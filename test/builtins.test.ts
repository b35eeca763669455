import { describe, expect, it } from 'vitest';
import { createNodeSnapshot } from 'wyneos/testing';
import { InvalidPolicyError } from '../src/errors.js';
import {
  allowedLabelValues,
  builtinRules,
  heartbeatFresh,
  maxLoad,
  metricBelow,
  minVersion,
  requiredLabels,
} from '../src/governance/builtins.js';
import type { Rule, RuleContext } from '../src/governance/types.js';
import type { NodeSnapshot } from '../src/types.js';

function node(fields: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return createNodeSnapshot({ id: 'n1', ...fields });
}

const ctx: RuleContext = { tick: 3, at: 60_000, fleetSize: 1 };

const run = (rule: Rule, n: NodeSnapshot) => rule.evaluate(n, ctx);

// Calls `make` and returns the InvalidPolicyError it throws, failing the test otherwise.
function policyError(make: () => unknown): InvalidPolicyError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPolicyError);
    return error as InvalidPolicyError;
  }
  throw new Error('expected an InvalidPolicyError');
}

describe('builtins', () => {
  it('maxLoad passes at the maximum and fails above it with observed and expected', () => {
    const rule = maxLoad(0.9);
    expect(run(rule, node({ load: 0.9 }))).toMatchObject({ ok: true, observed: 0.9 });
    expect(run(rule, node({ load: 0.95 }))).toEqual({
      ok: false,
      message: 'load 0.95 is above the maximum 0.9',
      observed: 0.95,
      expected: '<= 0.9',
    });
  });

  it('maxLoad rejects a maximum outside 0..1 at params.max', () => {
    for (const bad of [1.5, -0.1, Number.NaN, '0.5' as unknown as number]) {
      const error = policyError(() => maxLoad(bad));
      expect(error.path).toBe('params.max');
      expect(error.message).toContain('expected a number between 0 and 1');
    }
  });

  it('metricBelow passes below the bound and fails at it', () => {
    const rule = metricBelow('mem', 0.8);
    expect(run(rule, node({ metrics: { mem: 0.5 } }))).toMatchObject({ ok: true, observed: 0.5 });
    expect(run(rule, node({ metrics: { mem: 0.8 } }))).toEqual({
      ok: false,
      message: 'metric mem is 0.8, not below 0.8',
      observed: 0.8,
      expected: '< 0.8',
    });
  });

  it('metricBelow fails a node without the metric and says it is missing', () => {
    const verdict = run(metricBelow('mem', 0.8), node({ metrics: { cpu: 0.1 } }));
    expect(verdict).toEqual({
      ok: false,
      message: 'metric mem is missing',
      observed: undefined,
      expected: '< 0.8',
    });
    // Inherited object properties are not metrics.
    expect(run(metricBelow('toString', 1), node())).toMatchObject({
      ok: false,
      observed: undefined,
    });
  });

  it('metricBelow rejects an empty name and a non-finite bound', () => {
    expect(policyError(() => metricBelow('', 1)).path).toBe('params.name');
    expect(policyError(() => metricBelow('mem', Number.POSITIVE_INFINITY)).path).toBe('params.max');
  });

  it('minVersion compares in semver order, not string order', () => {
    const rule = minVersion('1.10.0');
    expect(run(rule, node({ version: '1.10.0' }))).toMatchObject({ ok: true });
    expect(run(rule, node({ version: '1.9.9' }))).toEqual({
      ok: false,
      message: 'version 1.9.9 is older than 1.10.0',
      observed: '1.9.9',
      expected: '>= 1.10.0',
    });
    expect(run(rule, node({ version: '1.10.0-rc.1' }))).toMatchObject({ ok: false });
  });

  it('minVersion fails a node with no version or a version that is not semver', () => {
    const rule = minVersion('1.0.0');
    expect(run(rule, node())).toMatchObject({
      ok: false,
      observed: undefined,
      message: 'the node reports no version',
    });
    expect(run(rule, node({ version: 'latest' }))).toMatchObject({ ok: false, observed: 'latest' });
  });

  it('minVersion rejects a minimum that is not semver at params.min', () => {
    const error = policyError(() => minVersion('1.2'));
    expect(error.path).toBe('params.min');
    expect(error.message).toContain('semver');
  });

  it('requiredLabels lists the missing keys in its message', () => {
    const rule = requiredLabels(['region', 'team', 'zone']);
    expect(run(rule, node({ labels: { region: 'eu', team: '', zone: 'a' } }))).toMatchObject({
      ok: true,
    });
    expect(run(rule, node({ labels: { region: 'eu' } }))).toEqual({
      ok: false,
      message: 'missing labels team, zone',
      observed: ['region'],
      expected: ['region', 'team', 'zone'],
    });
  });

  it('requiredLabels rejects an empty list and empty keys with the index in the path', () => {
    expect(policyError(() => requiredLabels([])).path).toBe('params.keys');
    expect(policyError(() => requiredLabels(['a', ''])).path).toBe('params.keys[1]');
  });

  it('allowedLabelValues passes an allowed value and fails another or a missing label', () => {
    const rule = allowedLabelValues('region', ['eu-west', 'eu-central']);
    expect(run(rule, node({ labels: { region: 'eu-west' } }))).toMatchObject({ ok: true });
    expect(run(rule, node({ labels: { region: 'us-east' } }))).toEqual({
      ok: false,
      message: 'label region is "us-east", not one of eu-west, eu-central',
      observed: 'us-east',
      expected: ['eu-west', 'eu-central'],
    });
    expect(run(rule, node())).toMatchObject({
      ok: false,
      observed: undefined,
      message: 'label region is missing',
    });
  });

  it('allowedLabelValues rejects an empty label, an empty list and non-string values', () => {
    expect(policyError(() => allowedLabelValues('', ['a'])).path).toBe('params.label');
    expect(policyError(() => allowedLabelValues('region', [])).path).toBe('params.values');
    expect(
      policyError(() => allowedLabelValues('region', ['a', 1 as unknown as string])).path,
    ).toBe('params.values[1]');
  });

  it('heartbeatFresh measures the age on the tick clock, and from registration for a node that never beat', () => {
    const rule = heartbeatFresh(30_000);
    expect(run(rule, node({ lastHeartbeatAt: 30_000 }))).toMatchObject({
      ok: true,
      observed: 30_000,
    });
    expect(run(rule, node({ lastHeartbeatAt: 29_999 }))).toEqual({
      ok: false,
      message: 'last heartbeat 30001 ms ago, more than 30000 ms',
      observed: 30_001,
      expected: '<= 30000',
    });
    // Found by the simulator: a just-registered node was failed (and, with isolate enforcement,
    // isolated) on the first tick, before its first heartbeat could arrive.
    expect(run(rule, node({ registeredAt: 50_000 }))).toMatchObject({
      ok: true,
      message: 'no heartbeat yet, registered 10000 ms ago',
      observed: 10_000,
    });
    expect(run(rule, node({ registeredAt: 0 }))).toMatchObject({
      ok: false,
      message: 'no heartbeat in the 60000 ms since it registered, more than 30000 ms',
    });
  });

  it('heartbeatFresh rejects a negative maximum age', () => {
    expect(policyError(() => heartbeatFresh(-1)).path).toBe('params.maxAgeMs');
  });

  it('names each rule after its builtin by default', () => {
    expect(
      [
        maxLoad(0.9),
        metricBelow('mem', 1),
        minVersion('1.0.0'),
        requiredLabels(['a']),
        allowedLabelValues('region', ['eu']),
        heartbeatFresh(1000),
      ].map((rule) => rule.id),
    ).toEqual([
      'max-load',
      'metric-below-mem',
      'min-version',
      'required-labels',
      'allowed-label-values-region',
      'heartbeat-fresh',
    ]);
    // Characters a rule id cannot hold become dashes.
    expect(allowedLabelValues('topology.k8s.io/zone', ['a']).id).toBe(
      'allowed-label-values-topology.k8s.io-zone',
    );
  });

  it('merges overrides over the defaults but never over evaluate', () => {
    const rule = maxLoad(0.5, {
      id: 'hot',
      severity: 'high',
      enforcement: 'reduce-load',
      for: 3,
      appliesTo: { region: 'eu' },
      evaluate: () => true,
    } as Partial<Rule>);
    expect(rule).toMatchObject({
      id: 'hot',
      description: 'load is at most 0.5',
      category: 'capacity',
      severity: 'high',
      enforcement: 'reduce-load',
      for: 3,
      appliesTo: { region: 'eu' },
    });
    expect(run(rule, node({ load: 0.9 }))).toMatchObject({ ok: false });
    // An override set to undefined keeps the default.
    expect(maxLoad(0.5, { id: undefined } as unknown as Partial<Rule>).id).toBe('max-load');
  });

  it('exposes every factory on builtinRules', () => {
    expect(Object.keys(builtinRules)).toEqual([
      'maxLoad',
      'metricBelow',
      'minVersion',
      'requiredLabels',
      'allowedLabelValues',
      'heartbeatFresh',
      'trustAtLeast',
    ]);
    expect(builtinRules.maxLoad).toBe(maxLoad);
  });
});
