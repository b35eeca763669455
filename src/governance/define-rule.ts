import { DuplicateRuleError, InvalidRuleError } from '../errors.js';
import type { Rule } from './types.js';

const ruleIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Checks a rule and returns it unchanged, so a malformed rule fails where it is written rather
 * than on the first tick.
 *
 * @example
 * const maxLoad = defineRule({
 *   id: 'max-load',
 *   description: 'load stays under 95%',
 *   evaluate: (node) => node.load < 0.95,
 * });
 */
export function defineRule(rule: Rule): Rule {
  validateRule(rule);
  return rule;
}

/** @internal */
export function validateRule(rule: unknown): asserts rule is Rule {
  if (typeof rule !== 'object' || rule === null) {
    throw new InvalidRuleError(undefined, `expected an object, got ${describeValue(rule)}`);
  }
  const { id, description, evaluate, appliesTo } = rule as Record<string, unknown>;
  if (typeof id !== 'string' || !ruleIdPattern.test(id)) {
    throw new InvalidRuleError(
      typeof id === 'string' ? id : undefined,
      `id must be 1-128 letters, digits, '.', '_' or '-' starting with a letter or digit, got ${describeValue(id)}`,
    );
  }
  if (typeof description !== 'string' || description.trim() === '') {
    throw new InvalidRuleError(id, 'description must be a non-empty string');
  }
  if (typeof evaluate !== 'function') {
    throw new InvalidRuleError(id, `evaluate must be a function, got ${describeValue(evaluate)}`);
  }
  if (appliesTo !== undefined && typeof appliesTo !== 'function') {
    throw new InvalidRuleError(id, `appliesTo must be a function, got ${describeValue(appliesTo)}`);
  }
}

/** @internal Validates a rule set: each rule, and ids unique across the set. */
export function validateRules(rules: unknown): readonly Rule[] {
  if (!Array.isArray(rules)) {
    throw new InvalidRuleError(undefined, `rules must be an array, got ${describeValue(rules)}`);
  }
  const seen = new Set<string>();
  for (const rule of rules) {
    validateRule(rule);
    if (seen.has(rule.id)) throw new DuplicateRuleError(rule.id);
    seen.add(rule.id);
  }
  return rules;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value;
}
