export { defineRule, validateRules } from './define-rule.js';
export { evaluateRules } from './evaluate.js';
export type {
  GovernanceReport,
  Rule,
  RuleContext,
  RuleOutcome,
  RuleResult,
  RuleSummary,
  RuleVerdict,
} from './types.js';
