import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { evaluateRules } from 'wyneos';
import { bufbuildRules, celInterpretedRules, celWyneosRules } from '../bench/cel-rules.js';
import { generateFleet, generateSnapshot } from '../bench/fleet.js';
import {
  createJsonRulesEngine,
  evaluateByHand,
  evaluateWithJsonRulesEngine,
  ruleIds,
  wyneosRules,
} from '../bench/ten-rules.js';
import { trivialWyneosRules } from '../bench/trivial-rules.js';

// The benchmarks compare timings; this checks only that they compare the same work.
describe('bench', () => {
  const snapshot = generateSnapshot(2_000);
  const byHand = evaluateByHand(snapshot.nodes, snapshot.at);
  const report = evaluateRules(wyneosRules, snapshot);
  const failCounts = (counts: Uint32Array) =>
    Object.fromEntries(ruleIds.map((id, r) => [id, counts[r]]));
  const failurePairs = (failures: readonly { ruleId: string; nodeId: string }[]) =>
    failures.map((f) => `${f.ruleId} ${f.nodeId}`).sort();

  it('generates the same fleet from the same seed', () => {
    expect(generateFleet(50, 7)).toEqual(generateFleet(50, 7));
    expect(generateFleet(50, 7)).not.toEqual(generateFleet(50, 8));
  });

  it('writes the same ten rules in the same order in wyneos and by hand', () => {
    expect(wyneosRules.map((r) => r.id)).toEqual([...ruleIds]);
  });

  it('fails and passes the same nodes in wyneos and the hand-written loop', () => {
    const fromReport = Object.fromEntries(report.rules.map((r) => [r.ruleId, r.fail]));
    expect(fromReport).toEqual(failCounts(byHand.fail));
    expect(report.rules.map((r) => r.pass)).toEqual([...byHand.pass]);
    expect(failurePairs(report.results)).toEqual(failurePairs(byHand.failures));
    expect(report.fleetCompliance).toBe(byHand.fleetCompliance);
    expect(report.nodeCompliance).toEqual(byHand.nodeCompliance);
  });

  it('fails the same nodes in json-rules-engine as in the hand-written loop', async () => {
    const json = await evaluateWithJsonRulesEngine(
      createJsonRulesEngine(),
      snapshot.nodes,
      snapshot.at,
    );
    expect(failCounts(json.fail)).toEqual(failCounts(byHand.fail));
    expect(failurePairs(json.failures)).toEqual(failurePairs(byHand.failures));
  });

  it('fails the same nodes with the trivial rules in CEL, in both libraries, as in TypeScript', () => {
    const small = generateSnapshot(300);
    const typescript = evaluateRules(trivialWyneosRules, small);
    for (const rules of [celWyneosRules, celInterpretedRules, bufbuildRules]) {
      const cel = evaluateRules(rules, small);
      expect(cel.rules.map((r) => [r.pass, r.fail, r.error])).toEqual(
        typescript.rules.map((r) => [r.pass, r.fail, r.error]),
      );
      expect(failurePairs(cel.results)).toEqual(failurePairs(typescript.results));
    }
  });

  it('has no rule that always passes or always fails', () => {
    for (const rule of report.rules) {
      expect(rule.fail, rule.ruleId).toBeGreaterThan(0);
      expect(rule.pass, rule.ruleId).toBeGreaterThan(0);
      expect(rule.error + rule.warn + rule.skip, rule.ruleId).toBe(0);
    }
  });

  it('runs every scenario in quick mode (CI keeps the benchmarks working; no timing is checked)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'bench/run.ts', '--quick'],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), maxBuffer: 10 * 1024 * 1024 },
    );
    const summary = stdout.slice(stdout.indexOf('Summary'));
    for (const name of [
      'governance-vs-hand-written',
      'governance-vs-json-rules-engine',
      'heartbeat-ingest',
      'http-ingest',
      'tick',
      'memory',
      'simulation',
      'sse-fanout',
      'core-budgets',
    ]) {
      expect(summary).toMatch(
        new RegExp(`(ok|MISS) +${name}: [\\d.]+ \\(at (most|least) [\\d.]+\\)`),
      );
    }
  }, 300_000);
});
