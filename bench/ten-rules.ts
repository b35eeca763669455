/**
 * The same ten rules written three ways, with identical semantics:
 * (a) as wyneos rules, (b) as one hand-written loop, (c) as json-rules-engine rules.
 *
 * Semantics, for every node (a missing metric counts as 0; a missing label or version, or a
 * node that never sent a heartbeat, fails the rules that read it):
 *  1. load-max         load <= 0.95
 *  2. mem-max          mem < 0.9
 *  3. disk-max         disk < 0.85
 *  4. temp-max         temp < 85
 *  5. queue-max        queue < 1000
 *  6. version-min      version >= 1.4.0 (semver)
 *  7. region-set       has a `region` label
 *  8. region-known     region is one of eu, us, apac
 *  9. heartbeat-fresh  the last heartbeat is at most 5000 ms old
 * 10. eu-team          a node in eu has a `team` label
 */
import { Engine, type RuleProperties } from 'json-rules-engine';
import semver from 'semver';
import { defineRule, type NodeSnapshot, type Rule } from 'wyneos';

export const ruleIds = [
  'load-max',
  'mem-max',
  'disk-max',
  'temp-max',
  'queue-max',
  'version-min',
  'region-set',
  'region-known',
  'heartbeat-fresh',
  'eu-team',
] as const;

export type RuleId = (typeof ruleIds)[number];

const minVersion = '1.4.0';
const knownRegions: readonly string[] = ['eu', 'us', 'apac'];
const maxHeartbeatAgeMs = 5_000;

// (a) wyneos ---------------------------------------------------------------------------------

/** The ten rules as a wyneos user writes them: plain closures returning a boolean. */
export const wyneosRules: readonly Rule[] = [
  defineRule({ id: 'load-max', description: 'load at most 0.95', evaluate: (n) => n.load <= 0.95 }),
  defineRule({
    id: 'mem-max',
    description: 'memory under 90%',
    evaluate: (n) => (n.metrics.mem ?? 0) < 0.9,
  }),
  defineRule({
    id: 'disk-max',
    description: 'disk under 85%',
    evaluate: (n) => (n.metrics.disk ?? 0) < 0.85,
  }),
  defineRule({
    id: 'temp-max',
    description: 'temperature under 85 °C',
    evaluate: (n) => (n.metrics.temp ?? 0) < 85,
  }),
  defineRule({
    id: 'queue-max',
    description: 'queue under 1000',
    evaluate: (n) => (n.metrics.queue ?? 0) < 1000,
  }),
  defineRule({
    id: 'version-min',
    description: 'version 1.4.0 or later',
    evaluate: (n) => n.version !== undefined && semver.gte(n.version, minVersion),
  }),
  defineRule({
    id: 'region-set',
    description: 'has a region label',
    evaluate: (n) => n.labels.region !== undefined,
  }),
  defineRule({
    id: 'region-known',
    description: 'region is eu, us or apac',
    evaluate: (n) => n.labels.region !== undefined && knownRegions.includes(n.labels.region),
  }),
  defineRule({
    id: 'heartbeat-fresh',
    description: 'heartbeat at most 5 s old',
    evaluate: (n, ctx) =>
      n.lastHeartbeatAt !== undefined && ctx.at - n.lastHeartbeatAt <= maxHeartbeatAgeMs,
  }),
  defineRule({
    id: 'eu-team',
    description: 'nodes in eu have a team label',
    evaluate: (n) => n.labels.region !== 'eu' || n.labels.team !== undefined,
  }),
];

// (b) by hand --------------------------------------------------------------------------------

export interface Failure {
  readonly ruleId: RuleId;
  readonly nodeId: string;
}

/** What the hand-written loop produces: what a wyneos report holds, without the abstraction. */
export interface HandReport {
  /** Per rule, in {@link ruleIds} order. */
  readonly pass: Uint32Array;
  readonly fail: Uint32Array;
  /** Per node, in input order: passed / 10. */
  /** Like wyneos's report: only nodes that miss a rule, by id (the rest are at 1). */
  readonly nodeCompliance: Record<string, number>;
  readonly fleetCompliance: number;
  readonly failures: Failure[];
}

/** What the ten rules read of a node: a `NodeSnapshot`, or the baseline's own record. */
export type RuleInput = Pick<
  NodeSnapshot,
  'id' | 'load' | 'metrics' | 'labels' | 'version' | 'lastHeartbeatAt'
>;

/** The ten comparisons in one plain loop over the nodes. */
export function evaluateByHand(nodes: readonly RuleInput[], at: number): HandReport {
  const count = nodes.length;
  const fail = new Uint32Array(ruleIds.length);
  const nodeCompliance: Record<string, number> = {};
  const failures: Failure[] = [];
  let compliant = 0;

  for (let i = 0; i < count; i++) {
    const node = nodes[i] as RuleInput;
    const { metrics, labels, version, lastHeartbeatAt } = node;
    const region = labels.region;
    // Bit r set: rule r failed on this node.
    let broken = 0;
    if (!(node.load <= 0.95)) broken |= 1 << 0;
    if (!((metrics.mem ?? 0) < 0.9)) broken |= 1 << 1;
    if (!((metrics.disk ?? 0) < 0.85)) broken |= 1 << 2;
    if (!((metrics.temp ?? 0) < 85)) broken |= 1 << 3;
    if (!((metrics.queue ?? 0) < 1000)) broken |= 1 << 4;
    if (version === undefined || !semver.gte(version, minVersion)) broken |= 1 << 5;
    if (region === undefined) broken |= 1 << 6;
    if (region === undefined || !knownRegions.includes(region)) broken |= 1 << 7;
    if (lastHeartbeatAt === undefined || at - lastHeartbeatAt > maxHeartbeatAgeMs) broken |= 1 << 8;
    if (region === 'eu' && labels.team === undefined) broken |= 1 << 9;

    if (broken === 0) {
      compliant++;
      continue;
    }
    let failed = 0;
    for (let r = 0; r < ruleIds.length; r++) {
      if ((broken & (1 << r)) === 0) continue;
      fail[r] = (fail[r] as number) + 1;
      failures.push({ ruleId: ruleIds[r] as RuleId, nodeId: node.id });
      failed++;
    }
    nodeCompliance[node.id] = (ruleIds.length - failed) / ruleIds.length;
  }

  const pass = new Uint32Array(ruleIds.length);
  for (let r = 0; r < ruleIds.length; r++) pass[r] = count - (fail[r] as number);
  return {
    pass,
    fail,
    nodeCompliance,
    fleetCompliance: count === 0 ? 1 : compliant / count,
    failures,
  };
}

// (c) json-rules-engine ----------------------------------------------------------------------

// Each rule is written as its violation: its event fires when the node breaks the rule.
// Facts are flat (no JSONPath), which is json-rules-engine's fastest form.
const jsonRules: readonly RuleProperties[] = [
  violation('load-max', { fact: 'load', operator: 'greaterThan', value: 0.95 }),
  violation('mem-max', { fact: 'mem', operator: 'greaterThanInclusive', value: 0.9 }),
  violation('disk-max', { fact: 'disk', operator: 'greaterThanInclusive', value: 0.85 }),
  violation('temp-max', { fact: 'temp', operator: 'greaterThanInclusive', value: 85 }),
  violation('queue-max', { fact: 'queue', operator: 'greaterThanInclusive', value: 1000 }),
  violation('version-min', { fact: 'version', operator: 'semverBelow', value: minVersion }),
  violation('region-set', { fact: 'region', operator: 'equal', value: null }),
  violation('region-known', { fact: 'region', operator: 'notIn', value: knownRegions }),
  {
    conditions: {
      any: [
        { fact: 'heartbeatAge', operator: 'equal', value: null },
        { fact: 'heartbeatAge', operator: 'greaterThan', value: maxHeartbeatAgeMs },
      ],
    },
    event: { type: 'heartbeat-fresh' },
  },
  {
    conditions: {
      all: [
        { fact: 'region', operator: 'equal', value: 'eu' },
        { fact: 'team', operator: 'equal', value: null },
      ],
    },
    event: { type: 'eu-team' },
  },
];

function violation(
  ruleId: RuleId,
  condition: { fact: string; operator: string; value: unknown },
): RuleProperties {
  return { conditions: { all: [condition] }, event: { type: ruleId } };
}

/** A json-rules-engine with the ten rules and the one operator they need that it lacks. */
export function createJsonRulesEngine(): Engine {
  const engine = new Engine();
  // A missing version breaks the rule, like a version below the minimum.
  engine.addOperator<string | null, string>(
    'semverBelow',
    (version, min) => version === null || semver.lt(version, min),
  );
  for (const rule of jsonRules) engine.addRule(rule);
  return engine;
}

/**
 * One node as json-rules-engine facts; what the node lacks is `null`. The numeric operators
 * never match a non-number, so a missing metric is no violation, as 0 is in the other two
 * forms.
 */
export function jsonFacts(node: NodeSnapshot, at: number): Record<string, unknown> {
  const { metrics, labels } = node;
  return {
    load: node.load,
    mem: metrics.mem ?? null,
    disk: metrics.disk ?? null,
    temp: metrics.temp ?? null,
    queue: metrics.queue ?? null,
    version: node.version ?? null,
    region: labels.region ?? null,
    team: labels.team ?? null,
    heartbeatAge: node.lastHeartbeatAt === undefined ? null : at - node.lastHeartbeatAt,
  };
}

/** Runs the engine once per node; returns per-rule fail counts and the failures. */
export async function evaluateWithJsonRulesEngine(
  engine: Engine,
  nodes: readonly NodeSnapshot[],
  at: number,
): Promise<{ fail: Uint32Array; failures: Failure[] }> {
  const fail = new Uint32Array(ruleIds.length);
  const failures: Failure[] = [];
  for (const node of nodes) {
    const { events } = await engine.run(jsonFacts(node, at));
    for (const event of events) {
      const rule = ruleIds.indexOf(event.type as RuleId);
      fail[rule] = (fail[rule] as number) + 1;
      failures.push({ ruleId: event.type as RuleId, nodeId: node.id });
    }
  }
  return { fail, failures };
}
