import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { celRule, evaluateRules, InvalidPolicyError, InvalidRuleError, type Rule } from 'wyneos';
import { createNodeSnapshot } from 'wyneos/testing';
import { celFormOf, compileCelRule } from '../src/governance/cel.js';
import { loadPolicyFile, parsePolicyText } from '../src/governance/policy-file.js';
import type { NodeSnapshot } from '../src/types.js';
import { killAll, wyneos } from './processes.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wyneos-cel-'));
afterAll(() => {
  killAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function loadError(text: string, format: 'yaml' | 'json' = 'yaml'): InvalidPolicyError {
  try {
    parsePolicyText(text, format, `policy.${format}`);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPolicyError);
    return error as InvalidPolicyError;
  }
  throw new Error('expected an InvalidPolicyError');
}

const ctx = { tick: 1, at: 10_000, fleetSize: 1 };

describe('policy-cel', () => {
  it('places a misspelt field at its line and column in the YAML file, naming the rule', () => {
    const error = loadError(`version: "1"
rules:
  - id: fine
    expression: node.load < 0.9
  - id: typo
    expression: "node.load < 1.0 && node.lod < 1.0"
`);
    expect(error.code).toBe('WYNEOS_ERR_INVALID_POLICY');
    expect(error.path).toBe('rules[1].expression');
    // The quote is column 17; `lod` is the 25th character of the expression.
    expect([error.line, error.column]).toEqual([6, 42]);
    expect(error.message).toContain("rule 'typo'");
    expect(error.message).toContain('policy.yaml');
    expect(error.message).toContain('No such key: lod');
  });

  it('places a type error inside a literal block on the line it is on', () => {
    const error = loadError(`version: "1"
rules:
  - id: block
    expression: |
      node.load < 0.8 &&
        node.load + "x" == "y"
`);
    expect([error.line, error.column]).toEqual([6, 9]);
    expect(error.message).toContain('no such overload: double + string');
  });

  it('places a mistake in a JSON policy too, and a syntax error at its column', () => {
    const json = loadError(
      '{"version": "1", "rules": [\n  {"id": "j", "expression": "node.load <"}]}',
      'json',
    );
    expect([json.line, json.column]).toEqual([2, 41]);
    expect(json.message).toContain('Unexpected token');
  });

  it('refuses an expression that is not a boolean and a message that is not a string', () => {
    const notBool = loadError('version: "1"\nrules:\n  - id: x\n    expression: node.load\n');
    expect(notBool.message).toContain('gives double, expected bool');
    const notString = loadError(
      'version: "1"\nrules:\n  - id: x\n    expression: node.load < 1.0\n    message: node.load\n',
    );
    expect(notString.path).toBe('rules[0].message');
    expect(notString.message).toContain('gives double, expected string');
  });

  it('refuses a rule with both use and expression, and a CEL rule without an id', () => {
    const both = loadError(
      'version: "1"\nrules:\n  - use: maxLoad\n    params: { max: 1 }\n    expression: node.load < 1.0\n',
    );
    expect(both.message).toContain('not both');
    const noId = loadError('version: "1"\nrules:\n  - expression: node.load < 1.0\n');
    expect(noId.path).toBe('rules[0].id');
  });

  it('gives an error result, not a throw, for a missing key or a division by zero', () => {
    const policy = parsePolicyText(
      `version: "1"
rules:
  - id: version-set
    expression: node.version >= "1.4"
  - id: divide
    expression: 10 / int(node.load) > 1
  - id: labelled
    expression: node.labels.tier == "canary"
    message: '"tier is " + node.labels.tier'
`,
      'yaml',
    );
    const node = createNodeSnapshot({ id: 'n1', load: 0.5, labels: { tier: 'edge' } });
    const report = evaluateRules(policy, { tick: 1, at: 0, nodes: [node] });
    const outcome = (id: string) => report.results.find((r) => r.ruleId === id);
    expect(outcome('version-set')?.outcome).toBe('error');
    expect(outcome('version-set')?.message).toContain('No such key: version');
    expect(outcome('divide')?.outcome).toBe('error');
    expect(outcome('divide')?.message).toContain('division by zero');
    expect(outcome('labelled')).toMatchObject({ outcome: 'fail', message: 'tier is edge' });
  });

  it('throws an InvalidRuleError with the column from celRule', () => {
    expect(() => celRule({ id: 'x', expression: 'node.lod < 1.0' })).toThrow(InvalidRuleError);
    expect(() => celRule({ id: 'x', expression: 'node.lod < 1.0' })).toThrow(/column 6/);
  });

  // Each CEL rule with its TypeScript twin; a missing metric or version fails the rule.
  const twins: ReadonlyArray<readonly [string, (n: NodeSnapshot) => boolean]> = [
    [
      // A missing label is an error in CEL, not a mismatch: has() first.
      'node.load < 0.8 || !has(node.labels.tier) || node.labels.tier != "canary"',
      (n) => n.load < 0.8 || n.labels.tier !== 'canary',
    ],
    [
      'has(node.metrics.mem) && node.metrics.mem < 0.9',
      (n) => n.metrics.mem !== undefined && n.metrics.mem < 0.9,
    ],
    [
      '(has(node.metrics.queue) ? node.metrics.queue : 0.0) < 1000.0',
      (n) => (n.metrics.queue ?? 0) < 1000,
    ],
    [
      '"region" in node.labels && node.labels.region in ["eu", "us"]',
      (n) => n.labels.region === 'eu' || n.labels.region === 'us',
    ],
    [
      'has(node.version) && node.version >= "1.4"',
      (n) => n.version !== undefined && n.version >= '1.4',
    ],
    [
      'node.trust >= 0.5 && node.state == "online" && node.suspicion < 1.0',
      (n) => n.trust >= 0.5 && n.state === 'online' && n.suspicion < 1,
    ],
  ];
  const rules: Rule[] = twins.map(([expression], i) => celRule({ id: `r${i}`, expression }));
  const snapshot = fc.record({
    load: fc.double({ min: 0, max: 1, noNaN: true }),
    labels: fc.dictionary(
      fc.constantFrom('tier', 'region', 'team'),
      fc.constantFrom('canary', 'eu', 'us', 'apac', ''),
    ),
    metrics: fc.dictionary(
      fc.constantFrom('mem', 'queue', 'disk'),
      fc.double({ min: -10, max: 5000, noNaN: true }),
    ),
    version: fc.option(fc.constantFrom('1.3.9', '1.4.0', '1.10.0', '2.0.0', '0.9'), {
      nil: undefined,
    }),
    trust: fc.double({ min: 0, max: 1, noNaN: true }),
    suspicion: fc.double({ min: 0, max: 3, noNaN: true }),
    state: fc.constantFrom('online', 'overloaded', 'isolated', 'offline' as const),
  });

  it('agrees with the hand-written TypeScript twin of each rule, for any node', () => {
    fc.assert(
      fc.property(snapshot, (fields) => {
        const node = createNodeSnapshot({ id: 'n1', ...fields });
        twins.forEach(([, twin], i) => {
          expect((rules[i] as Rule).evaluate(node, ctx)).toBe(twin(node));
        });
      }),
    );
  });

  // Expressions in the compiled subset, errors included: the closures must give the library's
  // answer, or fail where it fails.
  const subset = [
    'node.version >= "1.4" && node.labels.tier == "canary"',
    'node.labels.tier == "canary" || node.metrics.mem > 0.5',
    'node.metrics["queue"] < 1000 && !(node.load >= 1)',
    '-node.load < -0.5 || has(node.version) && node.version != "1.3.9"',
    '(has(node.metrics.disk) ? node.metrics.disk : 0.0) <= 100.0 == (node.trust > 0.5)',
    'node.labels.region in ["eu", "us"] || "team" in node.labels',
    'node.metrics.mem == 3.0 || node.state != "online" && node.suspicion >= 1.0',
    '3 < node.load || node.id == "n1" && node.labels.team != ""',
  ];
  const fast = subset.map((expression) => compileCelRule({ id: 'f', expression }));
  const interpreted = subset.map((expression) =>
    compileCelRule({ id: 'i', expression }, { interpret: true }),
  );

  it('compiles the common subset to closures and leaves the rest to the library', () => {
    expect(fast.map((rule) => celFormOf(rule)?.closures)).toEqual(subset.map(() => true));
    const arithmetic = compileCelRule({ id: 'x', expression: 'node.load * 2.0 < 1.0' });
    expect(celFormOf(arithmetic)?.closures).toBe(false);
  });

  it('gives the same answer, or the same error, compiled as interpreted, for any node', () => {
    const outcome = (rule: Rule, node: NodeSnapshot) => {
      try {
        return rule.evaluate(node, ctx);
      } catch (error) {
        return `error: ${(error as Error).message.replace(/ \(column \d+\)$/, '')}`;
      }
    };
    fc.assert(
      fc.property(snapshot, (fields) => {
        const node = createNodeSnapshot({ id: 'n1', ...fields });
        subset.forEach((_, i) => {
          expect(outcome(fast[i] as Rule, node)).toEqual(outcome(interpreted[i] as Rule, node));
        });
      }),
    );
  });

  it('checks a file and prints each rule compiled, in a real process', async () => {
    const file = write(
      'ok.yaml',
      `version: "2026-12-07.1"
rules:
  - use: maxLoad
    params: { max: 0.95 }
  - id: cool-canaries
    expression: node.load<0.8||node.labels.tier!="canary"
    message: '"canary at load " + string(node.load)'
    enforcement: reduce-load
`,
    );
    const check = wyneos(['policy', 'check', file]);
    expect(await check.exited()).toBe(0);
    const text = check.lines.map((l) => l.text);
    expect(text[0]).toContain('2 rules, all valid');
    expect(text).toContain(
      '  cool-canaries (reduce-load, medium): cel node.load < 0.8 || node.labels.tier != "canary" [compiled]',
    );

    const explain = wyneos([
      'policy',
      'explain',
      file,
      '--node',
      '{"id":"n1","labels":{"tier":"canary"},"load":0.9}',
    ]);
    expect(await explain.exited()).toBe(0);
    expect(explain.lines.map((l) => l.text)).toEqual([
      'pass  max-load',
      'fail  cool-canaries: canary at load 0.9',
    ]);
  });

  it('exits 2 with a coded message for a bad file or a bad --node, in a real process', async () => {
    const bad = write(
      'bad.yaml',
      'version: "1"\nrules:\n  - id: typo\n    expression: node.lod < 1.0\n',
    );
    const check = wyneos(['policy', 'check', bad]);
    expect(await check.exited()).toBe(2);
    expect(check.stderr.join('')).toMatch(/at rules\[0\]\.expression \(line 4, column 22\).*lod/);

    const good = write(
      'good.yaml',
      'version: "1"\nrules:\n  - id: x\n    expression: node.load < 1.0\n',
    );
    const explain = wyneos(['policy', 'explain', good, '--node', '{"id":"n1","load":"high"}']);
    expect(await explain.exited()).toBe(2);
    expect(explain.stderr.join('')).toContain('Invalid --node load: expected a number from 0 to 1');
  });

  it('loads CEL rules from a policy file on disk', async () => {
    const file = write(
      'disk.yaml',
      'version: "1"\nrules:\n  - id: x\n    expression: node.load < 1.0\n',
    );
    const policy = await loadPolicyFile(file);
    expect(policy.rules[0]?.description).toBe('node.load < 1.0');
  });
});
