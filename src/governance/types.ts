import type { NodeSnapshot } from '../types.js';

/** What a rule sees besides the node: the tick it runs in and the fleet's size. */
export interface RuleContext {
  readonly tick: number;
  readonly at: number;
  readonly fleetSize: number;
}

/** `true` is compliant, `false` is not; the object form adds a message that says why. */
export type RuleVerdict = boolean | { readonly ok: boolean; readonly message?: string };

export interface Rule {
  /** Unique among the supervisor's rules: letters, digits, `.`, `_`, `-`; at most 128 characters. */
  readonly id: string;
  /** One sentence that says what compliance means. */
  readonly description: string;
  /** Synchronous and pure: what it needs from outside comes in as labels, metrics or version. */
  readonly evaluate: (node: NodeSnapshot, ctx: RuleContext) => RuleVerdict;
  /** Nodes it returns false for get `skip`. Default: every node. */
  readonly appliesTo?: (node: NodeSnapshot) => boolean;
}

export type RuleOutcome = 'pass' | 'fail' | 'error' | 'skip';

/** One non-passing result: a rule that failed or errored on a node. */
export interface RuleResult {
  readonly ruleId: string;
  readonly nodeId: string;
  readonly outcome: 'fail' | 'error';
  readonly message: string;
}

export interface RuleSummary {
  readonly ruleId: string;
  readonly description: string;
  readonly pass: number;
  readonly fail: number;
  readonly error: number;
  readonly skip: number;
}

/** What governance found on one tick. Passing results are counted, not listed. */
export interface GovernanceReport {
  readonly tick: number;
  readonly at: number;
  /** How many nodes were evaluated. */
  readonly nodeCount: number;
  readonly rules: readonly RuleSummary[];
  /** Share of nodes that pass every rule that applies to them (1 for an empty fleet). */
  readonly fleetCompliance: number;
  /** Per node: passed / applicable rules (1 when no rule applies). */
  readonly nodeCompliance: Readonly<Record<string, number>>;
  /** Every `fail` and `error` result, node by node. */
  readonly results: readonly RuleResult[];
}
