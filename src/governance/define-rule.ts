import { DuplicateRuleError, InvalidRuleError } from '../errors.js';
import { show } from '../show.js';
import { selectorProblem } from './selector.js';
import type { Rule } from './types.js';

const ruleIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const severities = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const enforcements = ['audit', 'warn', 'reduce-load', 'isolate', 'deny'] as const;

/**
 * Checks a rule and returns it unchanged, so a malformed rule fails where it is written rather
 * than on the first tick.
 *
 * @example
 * const maxLoad = defineRule({
 *   id: 'max-load',
 *   description: 'load stays under 95%',
 *   severity: 'high',
 *   enforcement: 'reduce-load',
 *   for: 3,
 *   evaluate: (node) => ({ ok: node.load < 0.95, observed: node.load, expected: '< 0.95' }),
 * });
 */
export function defineRule(rule: Rule): Rule {
  validateRule(rule);
  return rule;
}

/** @internal */
export function validateRule(rule: unknown): asserts rule is Rule {
  if (typeof rule !== 'object' || rule === null) {
    throw new InvalidRuleError(undefined, `expected an object, got ${show(rule)}`);
  }
  const r = rule as Record<string, unknown>;
  const { id } = r;
  if (typeof id !== 'string' || !ruleIdPattern.test(id)) {
    throw new InvalidRuleError(
      typeof id === 'string' ? id : undefined,
      `id must be 1-128 letters, digits, '.', '_' or '-' starting with a letter or digit, got ${show(id)}`,
    );
  }
  const problem = ruleProblem(r);
  if (problem !== undefined) throw new InvalidRuleError(id, problem);
}

function ruleProblem(r: Record<string, unknown>): string | undefined {
  if (typeof r.description !== 'string' || r.description.trim() === '') {
    return 'description must be a non-empty string';
  }
  if (typeof r.evaluate !== 'function') {
    return `evaluate must be a function, got ${show(r.evaluate)}`;
  }
  if (r.appliesTo !== undefined && typeof r.appliesTo !== 'function') {
    const problem = selectorProblem(r.appliesTo);
    if (problem !== undefined)
      return `appliesTo must be a label selector or a function: ${problem}`;
  }
  if (r.severity !== undefined && !severities.includes(r.severity as never)) {
    return `severity must be one of ${severities.join(', ')}, got ${show(r.severity)}`;
  }
  if (r.category !== undefined && typeof r.category !== 'string') {
    return `category must be a string, got ${show(r.category)}`;
  }
  if (r.enforcement !== undefined && !enforcements.includes(r.enforcement as never)) {
    return `enforcement must be one of ${enforcements.join(', ')}, got ${show(r.enforcement)}`;
  }
  if (r.for !== undefined && (!Number.isSafeInteger(r.for) || (r.for as number) < 1)) {
    return `for must be a positive integer (consecutive failing ticks), got ${show(r.for)}`;
  }
  if (r.admission !== undefined && typeof r.admission !== 'boolean') {
    return `admission must be a boolean, got ${show(r.admission)}`;
  }
  if (r.onError !== undefined && r.onError !== 'fail' && r.onError !== 'skip') {
    return `onError must be 'fail' or 'skip', got ${show(r.onError)}`;
  }
  return undefined;
}

/** Validates a rule set: each rule, and ids unique across the set. */
export function validateRules(rules: unknown): readonly Rule[] {
  if (!Array.isArray(rules)) {
    throw new InvalidRuleError(undefined, `rules must be an array, got ${show(rules)}`);
  }
  const seen = new Set<string>();
  for (const rule of rules) {
    validateRule(rule);
    if (seen.has(rule.id)) throw new DuplicateRuleError(rule.id);
    seen.add(rule.id);
  }
  return rules;
}
