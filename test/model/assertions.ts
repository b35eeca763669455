import { expect } from 'vitest';
import { type GovernanceReport, WyneosError } from 'wyneos';
import type { ModelReport } from './governance.js';
import type { FleetModel, Outcome } from './model.js';
import type { Real } from './real.js';

/**
 * Checks a call against the model's prediction: it returns, or it throws the typed error with
 * the predicted code (and then, as `expectAgreement` checks next, changed nothing).
 */
export function expectOutcome<T>(call: () => T, predicted: Outcome): T | undefined {
  let thrown: unknown;
  try {
    const value = call();
    if (predicted === 'ok') return value;
  } catch (err) {
    thrown = err;
  }
  if (predicted === 'ok') throw thrown;
  expect(thrown, `expected ${predicted}`).toBeInstanceOf(WyneosError);
  expect((thrown as WyneosError).code).toBe(predicted);
  return undefined;
}

/**
 * The supervisor agrees with the model: every node's view; the actions applied, the tick
 * summaries and the governance reports since the last check; the latest report; the policy.
 */
export function expectAgreement(model: FleetModel, real: Real): void {
  const { sup } = real;
  expect(real.clock.now(), 'the clock').toBe(model.now);

  const nodes = sup.nodes().map((n) => ({
    id: n.id,
    state: n.state,
    since: n.since,
    isolations: n.isolations,
    reinstateAt: n.reinstateAt,
    probationUntil: n.probationUntil,
    escalation: n.escalation,
    labels: n.labels,
    version: n.version,
    registeredAt: n.registeredAt,
    load: n.load,
    seq: n.seq,
    lastHeartbeatAt: n.lastHeartbeatAt,
  }));
  const predicted = [...model.nodes.values()].map((n) => ({
    id: n.id,
    state: n.state,
    since: n.since,
    isolations: n.isolations,
    reinstateAt: n.reinstateAt,
    probationUntil: n.probationUntil,
    escalation: n.escalation,
    labels: n.labels,
    version: n.version,
    registeredAt: n.registeredAt,
    load: n.load,
    seq: n.seq,
    lastHeartbeatAt: n.lastHeartbeatAt,
  }));
  expect(nodes, 'the nodes').toEqual(predicted);

  expect([...real.actions].sort(), 'the actions applied').toEqual([...model.actions].sort());
  const ticks = real.ticks.map(({ tick, at, nodeCount, states, transitions, actions, held }) => ({
    tick,
    at,
    nodeCount,
    states,
    transitions,
    actions,
    held,
  }));
  expect(ticks, 'the tick summaries').toEqual(model.ticks);
  real.actions = [];
  real.ticks = [];
  model.actions = [];
  model.ticks = [];

  expect(sup.policy().version, 'the policy in force').toBe(model.policy.policy.version);
  expect(real.reports.map(reportShape), 'the reports since').toEqual(model.reports);
  const latest = sup.report();
  expect(latest && reportShape(latest), 'the latest report').toEqual(model.report);
  real.reports = [];
  model.reports = [];
}

/** What the model predicts of a report. */
function reportShape(report: GovernanceReport): ModelReport {
  return {
    tick: report.tick,
    at: report.at,
    policyVersion: report.policyVersion,
    nodeCount: report.nodeCount,
    // Every reported result: the model's rules fail or pass; they never warn, throw or skip.
    failures: report.results
      .map((r) => `${r.outcome === 'fail' ? '' : `${r.outcome}! `}${r.ruleId} ${r.nodeId}`)
      .sort(),
    fleetCompliance: report.fleetCompliance,
    nodeCompliance: report.nodeCompliance,
  };
}
