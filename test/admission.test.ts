import { describe, expect, it } from 'vitest';
import { type AdmissionDecision, AdmissionDeniedError, defineRule, type Rule } from 'wyneos';
import { captureLogger, collect, collectApplied, simulatedSupervisor } from './helpers.js';

const euOnly: Rule = defineRule({
  id: 'eu-only',
  description: 'runs in the EU',
  enforcement: 'deny',
  evaluate: (n) => ({
    ok: n.labels.region === 'eu',
    message: `region is ${n.labels.region ?? 'missing'}`,
  }),
});
const versioned: Rule = defineRule({
  id: 'has-version',
  description: 'declares a version',
  admission: true,
  evaluate: (n) => n.version !== undefined,
});

describe('admission', () => {
  it('refuses a node that fails admission rules, listing every failed rule, and registers nothing', () => {
    const { logger, lines } = captureLogger();
    const { sup } = simulatedSupervisor({ rules: [euOnly, versioned], logger });
    const decisions = collect<AdmissionDecision>(sup.admissions$);
    let error: unknown;
    try {
      sup.register({ id: 'x', labels: { region: 'us' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AdmissionDeniedError);
    expect((error as AdmissionDeniedError).failures).toEqual([
      { nodeId: 'x', ruleId: 'eu-only', message: 'region is us' },
      { nodeId: 'x', ruleId: 'has-version', message: 'declares a version' },
    ]);
    expect((error as AdmissionDeniedError).code).toBe('WYNEOS_ERR_ADMISSION_DENIED');
    expect(sup.nodes()).toEqual([]);
    expect(decisions).toEqual([
      {
        nodeId: 'x',
        admitted: false,
        isolated: false,
        failures: [
          { ruleId: 'eu-only', message: 'region is us' },
          { ruleId: 'has-version', message: 'declares a version' },
        ],
        at: 0,
      },
    ]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 40, msg: 'node refused admission', nodeId: 'x' }),
    );
  });

  it('admits a batch all or nothing', () => {
    const { sup } = simulatedSupervisor({ rules: [euOnly] });
    expect(() =>
      sup.registerMany([
        { id: 'a', labels: { region: 'eu' } },
        { id: 'b', labels: { region: 'us' } },
      ]),
    ).toThrow(AdmissionDeniedError);
    expect(sup.nodes()).toEqual([]);
    sup.registerMany([{ id: 'a', labels: { region: 'eu' } }]);
    expect(sup.node('a')?.state).toBe('online');
  });

  it('emits a decision for every admitted node', () => {
    const { sup } = simulatedSupervisor({ rules: [euOnly] });
    const decisions = collect<AdmissionDecision>(sup.admissions$);
    sup.register({ id: 'a', labels: { region: 'eu' } });
    expect(decisions).toEqual([
      { nodeId: 'a', admitted: true, isolated: false, failures: [], at: 0 },
    ]);
  });

  it('admits a failing node straight into isolation when configured to', () => {
    const { sup } = simulatedSupervisor({ rules: [euOnly], admission: 'isolate' });
    const actions = collectApplied(sup);
    const decisions = collect<AdmissionDecision>(sup.admissions$);
    sup.register({ id: 'x', labels: { region: 'us' } });
    expect(sup.node('x')).toMatchObject({
      state: 'isolated',
      reason: 'admission: rule eu-only failed: region is us',
    });
    expect(actions).toMatchObject([{ type: 'isolate', nodeId: 'x', ruleId: 'eu-only' }]);
    expect(decisions).toMatchObject([{ nodeId: 'x', admitted: true, isolated: true }]);
  });

  it('runs only admission rules at registration', () => {
    const tickOnly = defineRule({ ...euOnly, id: 'eu-on-ticks', admission: false });
    const { sup } = simulatedSupervisor({ rules: [tickOnly] });
    sup.register({ id: 'x', labels: { region: 'us' } });
    expect(sup.node('x')?.state).toBe('online');
  });

  it('fails closed: a rule that throws at admission refuses the node', () => {
    const broken = defineRule({
      id: 'broken',
      description: 'throws',
      admission: true,
      evaluate: () => {
        throw new Error('no data');
      },
    });
    const { sup } = simulatedSupervisor({ rules: [broken] });
    expect(() => sup.register({ id: 'x' })).toThrow(/broken \(rule threw: no data\)/);
  });
});
