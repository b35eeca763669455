/**
 * Ten trivial rules, each one comparison of the load or of one metric with a limit: the rules
 * issue 16's budgets are stated for. Defined once, as data, so the supervisor's closures
 * (`trivialWyneosRules`) and the lean reference's column loops (`bench/lean.ts`) cannot drift
 * apart. A missing metric counts as 0, as in `ten-rules.ts`.
 *
 * Each rule fails on a small share of a `generateFleet` fleet (about 1–4 %), so every rule both
 * passes and fails.
 */
import { defineRule, type NodeSnapshot, type Rule } from 'wyneos';

/** The metrics the rules read: the lean reference keeps one Float64Array column for each. */
export const metricNames = ['mem', 'disk', 'temp', 'queue'] as const;
export type MetricName = (typeof metricNames)[number];
export type Column = 'load' | MetricName;
export type Comparison = '<' | '<=' | '>' | '>=';

/** A node passes when `value(column) op limit`. */
export interface TrivialRule {
  readonly id: string;
  readonly column: Column;
  readonly op: Comparison;
  readonly limit: number;
}

export const trivialRules: readonly TrivialRule[] = [
  { id: 'load-max', column: 'load', op: '<=', limit: 0.95 },
  { id: 'load-floor', column: 'load', op: '>=', limit: 0.01 },
  { id: 'mem-max', column: 'mem', op: '<', limit: 0.9 },
  { id: 'mem-floor', column: 'mem', op: '>', limit: 0.12 },
  { id: 'disk-max', column: 'disk', op: '<', limit: 0.85 },
  { id: 'disk-floor', column: 'disk', op: '>', limit: 0.07 },
  { id: 'temp-max', column: 'temp', op: '<', limit: 85 },
  { id: 'temp-min', column: 'temp', op: '>=', limit: 32 },
  { id: 'queue-max', column: 'queue', op: '<', limit: 1000 },
  { id: 'queue-moving', column: 'queue', op: '>=', limit: 10 },
];

/** The comparison as a function of the value, specialised per operator. */
export function passes(op: Comparison, limit: number): (value: number) => boolean {
  switch (op) {
    case '<':
      return (v) => v < limit;
    case '<=':
      return (v) => v <= limit;
    case '>':
      return (v) => v > limit;
    case '>=':
      return (v) => v >= limit;
  }
}

/** The ten rules as a wyneos user would write them: one closure each, reading the snapshot. */
export const trivialWyneosRules: readonly Rule[] = trivialRules.map((rule) => {
  const test = passes(rule.op, rule.limit);
  const { column } = rule;
  const evaluate =
    column === 'load'
      ? (n: NodeSnapshot) => test(n.load)
      : (n: NodeSnapshot) => test(n.metrics[column] ?? 0);
  return defineRule({
    id: rule.id,
    description: `${column} ${rule.op} ${rule.limit}`,
    evaluate,
  });
});
