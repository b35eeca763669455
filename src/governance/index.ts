export {
  allowedLabelValues,
  type BuiltinRuleName,
  builtinRules,
  heartbeatFresh,
  maxLoad,
  metricBelow,
  minVersion,
  type RuleOverrides,
  requiredLabels,
  trustAtLeast,
} from './builtins.js';
export { type CelRuleDefinition, celRule } from './cel.js';
export { defineRule, validateRules } from './define-rule.js';
export { evaluateRules, GovernanceEngine, type GovernanceOptions } from './engine.js';
export type { ExemptionRequest } from './exemptions.js';
export { loadPolicyFile, parsePolicy, parsePolicyText, policySource } from './policy-file.js';
export { matchesSelector, selectorProblem } from './selector.js';
export type {
  Enforcement,
  Exemption,
  GovernanceDecision,
  GovernanceReport,
  LabelSelector,
  Policy,
  ResultChange,
  Rule,
  RuleContext,
  RuleOutcome,
  RuleResult,
  RuleSummary,
  RuleVerdict,
  Severity,
} from './types.js';
export { ruleOutcomes } from './types.js';
