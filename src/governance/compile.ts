import { InvalidPolicyError } from '../errors.js';
import type { NodeSnapshot } from '../types.js';
import { validateRules } from './define-rule.js';
import { quickPassOf } from './quick-pass.js';
import { toPredicate } from './selector.js';
import type { Enforcement, Policy, Rule, Severity } from './types.js';

/** @internal A rule with its defaults filled in and its selector turned into a predicate. */
export interface CompiledRule {
  readonly rule: Rule;
  readonly id: string;
  readonly severity: Severity;
  readonly enforcement: Enforcement;
  readonly for: number;
  readonly admission: boolean;
  readonly onError: 'fail' | 'skip';
  readonly applies: ((node: NodeSnapshot) => boolean) | undefined;
  /** True only where `rule.evaluate` passes, without building a verdict (built-ins), or undefined. */
  readonly passes: ((node: NodeSnapshot) => boolean) | undefined;
}

/** @internal */
export interface CompiledPolicy {
  readonly version: string;
  readonly rules: readonly CompiledRule[];
  readonly byId: ReadonlyMap<string, CompiledRule>;
}

/** @internal Validates a policy and compiles it once, so a tick does no per-rule set-up. */
export function compilePolicy(policy: Policy): CompiledPolicy {
  if (typeof policy !== 'object' || policy === null) {
    throw new InvalidPolicyError('', 'expected { version, rules }');
  }
  if (typeof policy.version !== 'string' || policy.version === '') {
    throw new InvalidPolicyError('version', 'expected a non-empty string');
  }
  const rules = validateRules(policy.rules).map(compileRule);
  return { version: policy.version, rules, byId: new Map(rules.map((r) => [r.id, r])) };
}

function compileRule(rule: Rule): CompiledRule {
  const enforcement = rule.enforcement ?? 'audit';
  return {
    rule,
    id: rule.id,
    severity: rule.severity ?? 'medium',
    enforcement,
    for: rule.for ?? 1,
    admission: rule.admission ?? enforcement === 'deny',
    onError: rule.onError ?? 'skip',
    applies: rule.appliesTo === undefined ? undefined : toPredicate(rule.appliesTo),
    passes: quickPassOf(rule.evaluate),
  };
}
