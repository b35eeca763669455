import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeSnapshot } from 'wyneos/testing';
import { InvalidPolicyError } from '../src/errors.js';
import { loadPolicyFile, parsePolicy, parsePolicyText } from '../src/governance/policy-file.js';
import type { NodeSnapshot } from '../src/types.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wyneos-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function node(fields: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return createNodeSnapshot({ id: 'n1', ...fields });
}

const ctx = { tick: 1, at: 10_000, fleetSize: 1 };

// Resolves to the InvalidPolicyError `run` throws or rejects with, failing the test otherwise.
async function policyError(run: () => unknown): Promise<InvalidPolicyError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPolicyError);
    return error as InvalidPolicyError;
  }
  throw new Error('expected an InvalidPolicyError');
}

const goodYaml = `version: "2026-11-26.1"
rules:
  - use: maxLoad
    params: { max: 0.95 }
    severity: high
    category: capacity
    enforcement: reduce-load
    for: 3
  - id: mem
    use: metricBelow
    params: { name: mem, max: 0.8 }
    appliesTo: { region: [eu-west, eu-central], tier: web }
  - use: minVersion
    params: { min: 1.4.0 }
    enforcement: deny
    admission: true
    onError: fail
  - use: requiredLabels
    params: { keys: [region, team] }
    description: every node says where it runs and who owns it
  - use: allowedLabelValues
    params: { label: region, values: [eu-west, eu-central] }
  - use: heartbeatFresh
    params: { maxAgeMs: 30000 }
`;

const rule = (fields: Record<string, unknown>) => ({
  use: 'maxLoad',
  params: { max: 0.9 },
  ...fields,
});

describe('policy-file', () => {
  it('loads a YAML policy into working built-in rules with their settings', async () => {
    const policy = await loadPolicyFile(write('policy.yaml', goodYaml));
    expect(policy.version).toBe('2026-11-26.1');
    expect(policy.rules.map((r) => r.id)).toEqual([
      'max-load',
      'mem',
      'min-version',
      'required-labels',
      'allowed-label-values-region',
      'heartbeat-fresh',
    ]);
    expect(policy.rules[0]).toMatchObject({
      severity: 'high',
      category: 'capacity',
      enforcement: 'reduce-load',
      for: 3,
    });
    expect(policy.rules[1]?.appliesTo).toEqual({ region: ['eu-west', 'eu-central'], tier: 'web' });
    expect(policy.rules[2]).toMatchObject({
      enforcement: 'deny',
      admission: true,
      onError: 'fail',
    });
    expect(policy.rules[3]?.description).toBe('every node says where it runs and who owns it');
    expect(policy.rules[0]?.evaluate(node({ load: 0.99 }), ctx)).toMatchObject({
      ok: false,
      observed: 0.99,
    });
    expect(policy.rules[5]?.evaluate(node({ lastHeartbeatAt: 5000 }), ctx)).toMatchObject({
      ok: true,
      observed: 5000,
    });
  });

  it('loads a JSON policy the same way', async () => {
    const file = write(
      'policy.json',
      JSON.stringify({
        version: 'v2',
        rules: [
          { use: 'minVersion', params: { min: '2.0.0' }, severity: 'critical' },
          { id: 'eu-only', use: 'allowedLabelValues', params: { label: 'region', values: ['eu'] } },
        ],
      }),
    );
    const policy = await loadPolicyFile(file);
    expect(policy.version).toBe('v2');
    expect(policy.rules.map((r) => [r.id, r.severity])).toEqual([
      ['min-version', 'critical'],
      ['eu-only', undefined],
    ]);
    expect(policy.rules[1]?.evaluate(node({ labels: { region: 'us' } }), ctx)).toMatchObject({
      ok: false,
      observed: 'us',
    });
  });

  it.each([
    [
      'a parameter of the wrong type',
      {
        version: 'v',
        rules: [rule({ id: 'a' }), rule({ id: 'b' }), rule({ params: { max: 'high' } })],
      },
      'rules[2].params.max',
      'expected a number',
    ],
    [
      'a parameter out of range',
      { version: 'v', rules: [rule({ params: { max: 1.5 } })] },
      'rules[0].params.max',
      'between 0 and 1',
    ],
    [
      'an unknown built-in',
      { version: 'v', rules: [rule({ use: 'maxLaod' })] },
      'rules[0].use',
      "unknown built-in rule 'maxLaod'; the built-ins are maxLoad, metricBelow",
    ],
    ['a missing version', { rules: [] }, 'version', 'is required'],
    [
      'a version that is not a string',
      { version: 3, rules: [] },
      'version',
      'expected a non-empty string',
    ],
    [
      'an unknown severity',
      { version: 'v', rules: [rule({ id: 'a' }), rule({ severity: 'severe' })] },
      'rules[1].severity',
      'expected one of critical, high, medium, low, info',
    ],
    [
      'a selector value that is not a string',
      { version: 'v', rules: [rule({ appliesTo: { region: 5 } })] },
      'rules[0].appliesTo.region',
      'a label value or an array of label values',
    ],
    [
      'a selector key that is not an identifier',
      { version: 'v', rules: [rule({ appliesTo: { 'k8s.io/zone': ['a', 1] } })] },
      'rules[0].appliesTo["k8s.io/zone"][1]',
      'expected a label value',
    ],
    [
      'a duplicate default id',
      { version: 'v', rules: [rule({}), rule({})] },
      'rules[1].id',
      "duplicate rule id 'max-load', also used by rules[0]",
    ],
    [
      'an unknown rule key',
      { version: 'v', rules: [rule({ colour: 'red' })] },
      'rules[0].colour',
      'is not an allowed key',
    ],
    [
      'an unknown top-level key',
      { version: 'v', rules: [], owner: 'me' },
      'owner',
      'is not an allowed key',
    ],
    [
      'an unknown parameter',
      { version: 'v', rules: [rule({ params: { max: 0.9, min: 0.1 } })] },
      'rules[0].params.min',
      'is not an allowed key; the keys are max',
    ],
    [
      'missing params',
      { version: 'v', rules: [{ use: 'maxLoad' }] },
      'rules[0].params',
      'is required',
    ],
    [
      'a minimum version that is not semver',
      { version: 'v', rules: [{ use: 'minVersion', params: { min: 'one' } }] },
      'rules[0].params.min',
      'expected a semver version',
    ],
    [
      'a for that is not a positive integer',
      { version: 'v', rules: [rule({ for: 1.5 })] },
      'rules[0].for',
      'expected a positive integer',
    ],
    [
      'a rule that is not an object',
      { version: 'v', rules: ['maxLoad'] },
      'rules[0]',
      'got "maxLoad"',
    ],
    ['data that is not an object', [1, 2], '', 'expected an object with version and rules'],
  ])('reports %s at its exact path', async (_, data, expectedPath, problem) => {
    const error = await policyError(() => parsePolicy(data, 'policy.yaml'));
    expect(error.path).toBe(expectedPath);
    expect(error.source).toBe('policy.yaml');
    expect(error.code).toBe('WYNEOS_ERR_INVALID_POLICY');
    expect(error.message).toContain(problem);
  });

  it('names the line of a YAML syntax error', async () => {
    const file = write(
      'broken.yaml',
      'version: v\nrules:\n  - use: maxLoad\n   params: { max: 0.9 }\n',
    );
    const error = await policyError(() => loadPolicyFile(file));
    expect(error.path).toBe('');
    expect(error.source).toBe(file);
    expect(error.message).toContain('YAML syntax error at line 4');
  });

  it('names the line of a JSON syntax error when the parser gives a position', async () => {
    const error = await policyError(() =>
      parsePolicyText('{\n  "version": "v",\n  "rules": [],\n}', 'json', 'p.json'),
    );
    expect(error.path).toBe('');
    expect(error.message).toMatch(/JSON syntax error at line 4/);
  });

  it('treats an unresolved YAML tag as an error rather than a string', async () => {
    const error = await policyError(() =>
      parsePolicyText('version: !secret v\nrules: []\n', 'yaml'),
    );
    expect(error.message).toContain('Unresolved tag');
  });

  it('loads a module policy from its default export or its policy export', async () => {
    const file = write(
      'policy.mjs',
      `export default {
        version: 'm1',
        rules: [{ id: 'eu', description: 'runs in eu', evaluate: (n) => n.labels.region === 'eu' }],
      };\n`,
    );
    const policy = await loadPolicyFile(file);
    expect(policy.version).toBe('m1');
    expect(policy.rules[0]?.evaluate(node({ labels: { region: 'eu' } }), ctx)).toBe(true);

    const named = write('named.mjs', `export const policy = { version: 'm2', rules: [] };\n`);
    expect(await loadPolicyFile(named)).toEqual({ version: 'm2', rules: [] });
  });

  it('rejects a module whose export is not a policy', async () => {
    const noVersion = write('no-version.mjs', 'export default { rules: [] };\n');
    expect((await policyError(() => loadPolicyFile(noVersion))).path).toBe('version');
    const noRules = write('no-rules.mjs', "export default { version: 'x', rules: {} };\n");
    expect((await policyError(() => loadPolicyFile(noRules))).path).toBe('rules');
    const nothing = write('nothing.mjs', 'export const other = 1;\n');
    expect((await policyError(() => loadPolicyFile(nothing))).message).toContain('default export');
  });

  it('reports a missing file with the file as source', async () => {
    const file = path.join(dir, 'nope.yaml');
    const error = await policyError(() => loadPolicyFile(file));
    expect(error.source).toBe(file);
    expect(error.message).toContain('does not exist');
  });

  it('refuses a file extension it does not know', async () => {
    const file = write('policy.toml', 'version = "v"');
    const error = await policyError(() => loadPolicyFile(file));
    expect(error.message).toContain("unsupported file extension '.toml'");
  });

  it('either returns a policy or throws an InvalidPolicyError for any JSON params', () => {
    // Arbitrary JSON, and objects with each built-in's own parameter names holding values that
    // are sometimes right, so the property also covers policies that parse.
    const paramNames: Record<string, string[]> = {
      maxLoad: ['max'],
      metricBelow: ['name', 'max'],
      minVersion: ['min'],
      requiredLabels: ['keys'],
      allowedLabelValues: ['label', 'values'],
      heartbeatFresh: ['maxAgeMs'],
    };
    const value = fc.oneof(
      fc.jsonValue(),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom('mem', '1.2.3', ''),
      fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
    );
    const ruleArbitrary = fc
      .constantFrom(...Object.keys(paramNames))
      .chain((use) =>
        fc.tuple(
          fc.constant(use),
          fc.oneof(
            fc.jsonValue(),
            fc.record(Object.fromEntries((paramNames[use] ?? []).map((name) => [name, value]))),
          ),
        ),
      );
    let parsed = 0;
    fc.assert(
      fc.property(ruleArbitrary, ([use, params]) => {
        try {
          expect(parsePolicy({ version: 'p', rules: [{ use, params }] }).rules).toHaveLength(1);
          parsed++;
        } catch (error) {
          if (!(error instanceof InvalidPolicyError)) throw error;
          expect(error.path.startsWith('rules[0]')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
    expect(parsed).toBeGreaterThan(0);
  });
});
