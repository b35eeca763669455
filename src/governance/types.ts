import type { ActionProposal, NodeSnapshot } from '../types.js';

/** What a rule sees besides the node: the tick it runs in and the fleet's size. */
export interface RuleContext {
  readonly tick: number;
  readonly at: number;
  readonly fleetSize: number;
}

/**
 * `true` is compliant, `false` is not. The object form says why: a `message`, and for rules
 * that compare values, what was `observed` and what was `expected`. `warn: true` with
 * `ok: false` makes the result a warning rather than a failure.
 */
export type RuleVerdict =
  | boolean
  | {
      readonly ok: boolean;
      readonly warn?: boolean;
      readonly message?: string;
      readonly observed?: unknown;
      readonly expected?: unknown;
    };

/** How much a failing rule matters, for reports and filters; it changes no enforcement. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/**
 * What a failing rule does, from mildest to strongest: `audit` only reports; `warn` also emits
 * a `warn` action; `reduce-load` emits a `reduce-load` action; `isolate` isolates the node;
 * `deny` refuses the node at registration (and reports on ticks).
 */
export type Enforcement = 'audit' | 'warn' | 'reduce-load' | 'isolate' | 'deny';

/** A label selector: every key must match, a list of values means "one of these". */
export type LabelSelector = Readonly<Record<string, string | readonly string[]>>;

/**
 * A governance rule: a check of one node, and what the supervisor does when the node fails it.
 * Made with {@link defineRule}, a built-in such as {@link maxLoad}, or {@link celRule}.
 */
export interface Rule {
  /** Unique within a policy: letters, digits, `.`, `_`, `-`; at most 128 characters. */
  readonly id: string;
  /** One sentence that says what compliance means. */
  readonly description: string;
  /** Synchronous and pure: what it needs from outside comes in as labels, metrics or version. */
  readonly evaluate: (node: NodeSnapshot, ctx: RuleContext) => RuleVerdict;
  /** Nodes it does not select get `skip`. Default: every node. */
  readonly appliesTo?: LabelSelector | ((node: NodeSnapshot) => boolean);
  /** Default: `medium`. */
  readonly severity?: Severity;
  /** A free-form group for reports, such as `security` or `capacity`. */
  readonly category?: string;
  /** Default: `audit`. */
  readonly enforcement?: Enforcement;
  /** Consecutive failing ticks before enforcement acts (like a Prometheus alert's `for`). Default: 1. */
  readonly for?: number;
  /** Also run the rule when a node registers; a node that fails it is refused. Default: true for `deny`. */
  readonly admission?: boolean;
  /** What an `error` counts as for enforcement: `skip` (fail open) or `fail`. Default: `skip`. */
  readonly onError?: 'fail' | 'skip';
}

/** A versioned set of rules: what `setPolicy` swaps between ticks. */
export interface Policy {
  readonly version: string;
  readonly rules: readonly Rule[];
}

/** What a rule made of one node on one tick; `skip` when it does not apply or is exempted. */
export type RuleOutcome = (typeof ruleOutcomes)[number];

/** Every outcome of a rule on a node, in one place (a rule's summary counts each). */
export const ruleOutcomes = ['pass', 'fail', 'warn', 'error', 'skip'] as const;

/** An exception: results of `ruleId` on matching nodes become `skip` until `until`. */
export interface Exemption {
  readonly id: string;
  readonly ruleId: string;
  /** Exactly one of `nodeId` and `selector`. */
  readonly nodeId?: string;
  readonly selector?: LabelSelector;
  /** When it expires, on the supervisor's clock (ms). */
  readonly until: number;
  readonly reason: string;
}

/** One rule's result on one node. */
export interface RuleResult {
  readonly ruleId: string;
  readonly nodeId: string;
  readonly outcome: RuleOutcome;
  readonly severity: Severity;
  readonly message: string;
  readonly observed?: unknown;
  readonly expected?: unknown;
  /** The exemption that turned this result into `skip`. */
  readonly exemption?: Pick<Exemption, 'id' | 'reason' | 'until'>;
}

/** One rule over the whole fleet on one tick: how many nodes got each outcome. */
export interface RuleSummary {
  readonly ruleId: string;
  readonly description: string;
  readonly severity: Severity;
  readonly category: string | undefined;
  readonly enforcement: Enforcement;
  readonly pass: number;
  readonly fail: number;
  readonly warn: number;
  readonly error: number;
  readonly skip: number;
  /** Wall time the rule took over the whole fleet this tick, in ms. */
  readonly durationMs: number;
  /** True when `durationMs` exceeded the per-rule budget. */
  readonly slow: boolean;
}

/** A (rule, node) pair whose outcome changed since the previous tick. */
export interface ResultChange {
  readonly ruleId: string;
  readonly nodeId: string;
}

/** What governance found on one tick. Passing results are counted, not listed. */
export interface GovernanceReport {
  /** Unique per report. */
  readonly runId: string;
  readonly tick: number;
  readonly at: number;
  readonly policyVersion: string;
  /** How many nodes were evaluated. */
  readonly nodeCount: number;
  readonly rules: readonly RuleSummary[];
  /** Share of nodes that pass every rule that applies to them (1 for an empty fleet). */
  readonly fleetCompliance: number;
  /**
   * Per node that misses a rule: passed / applicable rules (warnings count as passed). A node
   * not listed passes every rule that applies to it: its compliance is 1. Sparse, because a
   * fleet of 100,000 nodes is mostly compliant.
   */
  readonly nodeCompliance: Readonly<Record<string, number>>;
  /** Every `fail`, `warn` and `error` result, and every `skip` an exemption caused. */
  readonly results: readonly RuleResult[];
  /** Failures and errors new since the previous tick, and those that went away. */
  readonly changes: {
    readonly newlyFailing: readonly ResultChange[];
    readonly resolved: readonly ResultChange[];
  };
}

/** What governance hands the supervisor on each tick: the report and what enforcement asks. */
export interface GovernanceDecision {
  readonly report: GovernanceReport;
  readonly proposals: readonly ActionProposal[];
}
