import semver from 'semver';
import { InvalidPolicyError } from '../errors.js';
import { show } from '../show.js';
import type { NodeSnapshot } from '../types.js';
import { withQuickPass } from './quick-pass.js';
import type { Rule, RuleContext, RuleVerdict } from './types.js';

/** Everything about a built-in rule but its check: merged over the built-in's defaults. */
export type RuleOverrides = Partial<Omit<Rule, 'evaluate'>>;

/**
 * Fails nodes whose load is above `max`.
 *
 * @param max - The highest compliant load, between 0 and 1.
 * @param overrides - Default id `max-load`, category `capacity`.
 * @example
 * maxLoad(0.9, { enforcement: 'reduce-load', for: 3 })
 */
export function maxLoad(max: number, overrides?: RuleOverrides): Rule {
  checkNumber('max', max, 0, 1);
  return build(
    { id: 'max-load', description: `load is at most ${max}`, category: 'capacity' },
    withQuickPass(
      (node) => {
        const ok = node.load <= max;
        const message = ok
          ? `load ${node.load} is at most ${max}`
          : `load ${node.load} is above the maximum ${max}`;
        return { ok, message, observed: node.load, expected: `<= ${max}` };
      },
      (node) => node.load <= max,
    ),
    overrides,
  );
}

/**
 * Fails nodes whose metric `name` is missing or not below `max`.
 *
 * @param overrides - Default id `metric-below-<name>`, category `capacity`.
 * @example
 * metricBelow('mem', 0.8, { severity: 'high' })
 */
export function metricBelow(name: string, max: number, overrides?: RuleOverrides): Rule {
  checkName('name', name);
  checkNumber('max', max);
  return build(
    {
      id: `metric-below-${name}`,
      description: `metric ${name} is below ${max}`,
      category: 'capacity',
    },
    (node) => {
      const value = Object.hasOwn(node.metrics, name) ? node.metrics[name] : undefined;
      const expected = `< ${max}`;
      if (value === undefined) {
        return { ok: false, message: `metric ${name} is missing`, observed: undefined, expected };
      }
      const ok = value < max;
      const message = ok
        ? `metric ${name} is ${value}, below ${max}`
        : `metric ${name} is ${value}, not below ${max}`;
      return { ok, message, observed: value, expected };
    },
    overrides,
  );
}

/**
 * Fails nodes whose version is missing, not semver, or lower than `min` (semver order, so a
 * prerelease of `min` is lower than `min`).
 *
 * @param min - A semver version such as `1.4.0`.
 * @param overrides - Default id `min-version`, category `versioning`.
 * @example
 * minVersion('1.4.0', { enforcement: 'deny' })
 */
export function minVersion(min: string, overrides?: RuleOverrides): Rule {
  if (typeof min !== 'string' || semver.valid(min) === null) {
    throw new InvalidPolicyError(
      'params.min',
      `expected a semver version such as 1.4.0, got ${show(min)}`,
    );
  }
  const expected = `>= ${min}`;
  // A fleet runs a handful of versions: each is parsed once, not at every evaluation (semver
  // parsing was a tenth of a replay's time). Bounded, for a fleet that reports endless ones.
  const verdicts = new Map<string, { ok: boolean; message: string }>();
  const judge = (version: string): { ok: boolean; message: string } => {
    if (semver.valid(version) === null) {
      return { ok: false, message: `version ${show(version)} is not a semver version` };
    }
    const ok = semver.gte(version, min);
    const message = ok
      ? `version ${version} is at least ${min}`
      : `version ${version} is older than ${min}`;
    return { ok, message };
  };
  return build(
    { id: 'min-version', description: `version is at least ${min}`, category: 'versioning' },
    (node) => {
      const { version } = node;
      if (version === undefined) {
        return { ok: false, message: 'the node reports no version', observed: undefined, expected };
      }
      let verdict = verdicts.get(version);
      if (verdict === undefined) {
        verdict = judge(version);
        if (verdicts.size >= 1024) verdicts.clear();
        verdicts.set(version, verdict);
      }
      return { ok: verdict.ok, message: verdict.message, observed: version, expected };
    },
    overrides,
  );
}

/**
 * Fails nodes that lack any of the label `keys` (an empty value counts as present).
 * `observed` lists the required keys the node has; `expected` lists them all.
 *
 * @param overrides - Default id `required-labels`, category `inventory`.
 * @example
 * requiredLabels(['region', 'team'])
 */
export function requiredLabels(keys: readonly string[], overrides?: RuleOverrides): Rule {
  checkStrings('keys', keys, true);
  const expected = [...keys];
  const allSet = `labels ${expected.join(', ')} are set`;
  return build(
    {
      id: 'required-labels',
      description: `labels ${keys.join(', ')} are set`,
      category: 'inventory',
    },
    withQuickPass(
      (node) => {
        // The common case without the two filters and the join; observed is then every key.
        if (everySet(expected, node.labels)) {
          return { ok: true, message: allSet, observed: [...expected], expected };
        }
        const present = expected.filter((key) => Object.hasOwn(node.labels, key));
        const missing = expected.filter((key) => !Object.hasOwn(node.labels, key));
        const ok = missing.length === 0;
        const message = ok
          ? `labels ${expected.join(', ')} are set`
          : `missing label${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`;
        return { ok, message, observed: present, expected };
      },
      (node) => everySet(expected, node.labels),
    ),
    overrides,
  );
}

/**
 * Fails nodes whose label `label` is missing or not one of `values`.
 *
 * @param overrides - Default id `allowed-label-values-<label>`, category `placement`.
 * @example
 * allowedLabelValues('region', ['eu-west', 'eu-central'])
 */
export function allowedLabelValues(
  label: string,
  values: readonly string[],
  overrides?: RuleOverrides,
): Rule {
  checkName('label', label);
  checkStrings('values', values, false);
  const expected = [...values];
  const allowed = new Set(expected);
  return build(
    {
      id: `allowed-label-values-${label}`,
      description: `label ${label} is one of ${expected.join(', ')}`,
      category: 'placement',
    },
    (node) => {
      if (!Object.hasOwn(node.labels, label)) {
        return { ok: false, message: `label ${label} is missing`, observed: undefined, expected };
      }
      const value = node.labels[label] as string;
      const ok = allowed.has(value);
      const message = ok
        ? `label ${label} is ${show(value)}`
        : `label ${label} is ${show(value)}, not one of ${expected.join(', ')}`;
      return { ok, message, observed: value, expected };
    },
    overrides,
  );
}

/**
 * Fails nodes whose latest heartbeat is older than `maxAgeMs` at the tick's time. A node that
 * has not sent one yet is judged by the time since it registered, so a node that just joined is
 * not failed (or isolated) before its first beat could arrive. `observed` is the age in ms.
 *
 * @param overrides - Default id `heartbeat-fresh`, category `liveness`.
 * @example
 * heartbeatFresh(30_000, { enforcement: 'isolate', for: 2 })
 */
export function heartbeatFresh(maxAgeMs: number, overrides?: RuleOverrides): Rule {
  checkNumber('maxAgeMs', maxAgeMs, 0);
  const expected = `<= ${maxAgeMs}`;
  return build(
    {
      id: 'heartbeat-fresh',
      description: `a heartbeat arrived in the last ${maxAgeMs} ms`,
      category: 'liveness',
    },
    (node, ctx) => {
      if (node.lastHeartbeatAt === undefined) {
        const age = ctx.at - node.registeredAt;
        const ok = age <= maxAgeMs;
        const message = ok
          ? `no heartbeat yet, registered ${age} ms ago`
          : `no heartbeat in the ${age} ms since it registered, more than ${maxAgeMs} ms`;
        return { ok, message, observed: age, expected };
      }
      const age = ctx.at - node.lastHeartbeatAt;
      const ok = age <= maxAgeMs;
      const message = ok
        ? `last heartbeat ${age} ms ago`
        : `last heartbeat ${age} ms ago, more than ${maxAgeMs} ms`;
      return { ok, message, observed: age, expected };
    },
    overrides,
  );
}

/**
 * Fails nodes whose trust score is below `min`. Trust moves at the end of each tick, so a rule
 * sees the score the previous tick left. With `enforcement: 'isolate'`, low trust drives
 * enforcement like any other failure.
 *
 * @param min - The lowest compliant trust, between 0 and 1.
 * @param overrides - Default id `trust-at-least`, category `trust`.
 * @example
 * trustAtLeast(0.6, { enforcement: 'isolate', severity: 'high' })
 */
export function trustAtLeast(min: number, overrides?: RuleOverrides): Rule {
  checkNumber('min', min, 0, 1);
  return build(
    { id: 'trust-at-least', description: `trust is at least ${min}`, category: 'trust' },
    (node) => {
      const ok = node.trust >= min;
      const shown = node.trust.toFixed(3);
      const message = ok ? `trust ${shown} is at least ${min}` : `trust ${shown} is below ${min}`;
      return { ok, message, observed: node.trust, expected: `>= ${min}` };
    },
    overrides,
  );
}

/** The built-in rule factories by name: the names a policy file's `use` refers to. */
export const builtinRules = {
  /** {@link maxLoad} */
  maxLoad,
  /** {@link metricBelow} */
  metricBelow,
  /** {@link minVersion} */
  minVersion,
  /** {@link requiredLabels} */
  requiredLabels,
  /** {@link allowedLabelValues} */
  allowedLabelValues,
  /** {@link heartbeatFresh} */
  heartbeatFresh,
  /** {@link trustAtLeast} */
  trustAtLeast,
} as const;

/** The name of a built-in rule, as a policy file's `use` gives it. */
export type BuiltinRuleName = keyof typeof builtinRules;

interface Defaults {
  readonly id: string;
  readonly description: string;
  readonly category: string;
}

function everySet(keys: readonly string[], labels: object): boolean {
  for (let i = 0; i < keys.length; i++) if (!Object.hasOwn(labels, keys[i] as string)) return false;
  return true;
}

function build(
  defaults: Defaults,
  evaluate: (node: NodeSnapshot, ctx: RuleContext) => RuleVerdict,
  overrides: RuleOverrides | undefined,
): Rule {
  // Keys set to undefined (possible from JavaScript) must not erase a default such as the id.
  const defined = Object.fromEntries(
    Object.entries(overrides ?? {}).filter(
      ([key, value]) => key !== 'evaluate' && value !== undefined,
    ),
  ) as RuleOverrides;
  return { ...defaults, id: ruleId(defaults.id), ...defined, evaluate };
}

// A metric or label name can hold characters a rule id cannot (`topology.k8s.io/zone`).
function ruleId(raw: string): string {
  return raw.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 128);
}

function checkNumber(param: string, value: unknown, min?: number, max?: number): void {
  const inRange =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max);
  if (inRange) return;
  const range =
    min !== undefined && max !== undefined
      ? ` between ${min} and ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : '';
  throw new InvalidPolicyError(`params.${param}`, `expected a number${range}, got ${show(value)}`);
}

function checkName(param: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidPolicyError(
      `params.${param}`,
      `expected a non-empty string, got ${show(value)}`,
    );
  }
}

function checkStrings(param: string, value: unknown, nonEmptyItems: boolean): void {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidPolicyError(
      `params.${param}`,
      `expected a non-empty array of strings, got ${show(value)}`,
    );
  }
  value.forEach((item: unknown, i) => {
    if (typeof item !== 'string' || (nonEmptyItems && item === '')) {
      throw new InvalidPolicyError(
        `params.${param}[${i}]`,
        `expected a ${nonEmptyItems ? 'non-empty ' : ''}string, got ${show(item)}`,
      );
    }
  });
}

export { show };
