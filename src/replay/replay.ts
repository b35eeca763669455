import { InvalidArgumentError } from '../errors.js';
import type { Policy } from '../governance/index.js';
import type { TraceHeader } from './format.js';
import { readTrace, type Trace, type TraceDamage } from './reader.js';
import { type RuleTally, runBoth, type SideRun } from './run.js';

/** How to replay a trace: the policy to try, and what to compare it with. */
export interface ReplayOptions {
  /** The policy under test. */
  readonly policy: Policy;
  /**
   * The policy to compare with.
   * @defaultValue a policy with no rules
   */
  readonly baseline?: Policy;
  /** The first receive time (supervisor clock, ms) whose outcomes count; earlier inputs still build the state. */
  readonly from?: number;
  /** The last receive time replayed. */
  readonly to?: number;
}

/** One action or transition, as one supervisor did it. */
export interface ReplayStep {
  readonly kind: 'action' | 'transition';
  /** For an action its type (`isolate`); for a transition `from→to`. */
  readonly what: string;
  readonly reason: string;
  /** For an action: `applied` or `held` (by a safety limit). */
  readonly status?: string;
}

/** What the two policies did differently to one node at one time. */
export interface ReplayDifference {
  readonly at: number;
  readonly nodeId: string;
  readonly policy: readonly ReplayStep[];
  readonly baseline: readonly ReplayStep[];
}

/** One rule's results over the replayed window, under the new policy and under the baseline. */
export interface RuleCompliance {
  readonly ruleId: string;
  /** Summed over every tick in the window; null when the policy has no such rule. */
  readonly policy: (RuleTally & { readonly compliance: number }) | null;
  readonly baseline: (RuleTally & { readonly compliance: number }) | null;
}

/** One row of the summary: a count under each policy. */
export interface SummaryRow {
  readonly figure: string;
  readonly policy: number;
  readonly baseline: number;
}

/**
 * What `replayTrace` found: the trace read (with any damage skipped), what differed between the
 * two policies node by node, each rule's compliance under each, and the summary counts.
 */
export interface ReplayResult {
  readonly trace: {
    readonly tickMs: number;
    readonly heartbeatTimeoutMs: number;
    readonly segments: number;
    /** Entries fed to the supervisors, and those after `to`. */
    readonly entries: number;
    readonly outside: number;
    readonly from: number | null;
    readonly to: number | null;
    readonly damage: readonly TraceDamage[];
    readonly skippedBytes: number;
  };
  readonly policies: { readonly policy: string; readonly baseline: string };
  readonly differences: readonly ReplayDifference[];
  readonly compliance: readonly RuleCompliance[];
  readonly summary: readonly SummaryRow[];
}

const noRules: Policy = { version: 'no rules', rules: [] };

/**
 * Replays a recorded trace through two supervisors on one simulated clock, one under
 * `options.policy` and one under `options.baseline`, and says what they did differently. The
 * same trace and policies always give the same result.
 *
 * @example
 * const result = await replayTrace('/var/lib/wyneos/trace', { policy: await loadPolicyFile('new.yaml') });
 * expect(result.summary.find((r) => r.figure === 'isolations')?.policy).toBe(0);
 */
export async function replayTrace(
  trace: string | Trace,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const opened = typeof trace === 'string' ? readTrace(trace) : trace;
  const from = options.from ?? Number.NEGATIVE_INFINITY;
  const to = options.to ?? Number.POSITIVE_INFINITY;
  if (!(from <= to))
    throw new InvalidArgumentError('from', `must not be after to (${from} > ${to})`);
  const baseline = options.baseline ?? noRules;
  const run = await runBoth(
    opened.header,
    opened.entries(),
    { policy: options.policy, baseline },
    { from, to },
  );
  return {
    trace: traceFacts(opened.header, opened, run, options),
    policies: { policy: options.policy.version, baseline: baseline.version },
    differences: differences(run.policy, run.baseline),
    compliance: compliance(run.policy, run.baseline),
    summary: summary(run.policy, run.baseline),
  };
}

function traceFacts(
  header: TraceHeader,
  trace: Trace,
  run: { applied: number; outside: number },
  options: ReplayOptions,
): ReplayResult['trace'] {
  return {
    tickMs: header.tickMs,
    heartbeatTimeoutMs: header.heartbeatTimeoutMs,
    segments: trace.segments.length,
    entries: run.applied,
    outside: run.outside,
    from: options.from ?? null,
    to: options.to ?? null,
    damage: trace.damage,
    skippedBytes: trace.damage.reduce((sum, d) => sum + d.bytes, 0),
  };
}

function steps(run: SideRun): Map<string, ReplayStep[]> {
  const byKey = new Map<string, ReplayStep[]>();
  const add = (nodeId: string, at: number, step: ReplayStep) => {
    const key = `${at}\u0000${nodeId}`;
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [step]);
    else list.push(step);
  };
  for (const a of run.actions) {
    add(a.nodeId, a.at, { kind: 'action', what: a.type, reason: a.reason, status: a.status });
  }
  for (const t of run.transitions) {
    add(t.nodeId, t.at, { kind: 'transition', what: `${t.from}→${t.to}`, reason: t.reason });
  }
  return byKey;
}

function differences(policy: SideRun, baseline: SideRun): ReplayDifference[] {
  const ours = steps(policy);
  const theirs = steps(baseline);
  const keys = new Set([...ours.keys(), ...theirs.keys()]);
  const found: ReplayDifference[] = [];
  for (const key of keys) {
    const a = ours.get(key) ?? [];
    const b = theirs.get(key) ?? [];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const cut = key.indexOf('\u0000');
    found.push({
      at: Number(key.slice(0, cut)),
      nodeId: key.slice(cut + 1),
      policy: a,
      baseline: b,
    });
  }
  return found.sort(
    (x, y) => x.at - y.at || (x.nodeId < y.nodeId ? -1 : x.nodeId > y.nodeId ? 1 : 0),
  );
}

function compliance(policy: SideRun, baseline: SideRun): RuleCompliance[] {
  const ids = [...new Set([...policy.rules.keys(), ...baseline.rules.keys()])].sort();
  const of = (tally: RuleTally | undefined) => {
    if (tally === undefined) return null;
    const judged = tally.pass + tally.warn + tally.fail + tally.error;
    return { ...tally, compliance: judged === 0 ? 1 : (tally.pass + tally.warn) / judged };
  };
  return ids.map((ruleId) => ({
    ruleId,
    policy: of(policy.rules.get(ruleId)),
    baseline: of(baseline.rules.get(ruleId)),
  }));
}

/** The figures `--fail-if` can name, each as the summary counts it. */
export const summaryFigures = [
  'ticks',
  'isolations',
  'reinstatements',
  'actions',
  'held',
  'transitions',
  'refused',
] as const;

function summary(policy: SideRun, baseline: SideRun): SummaryRow[] {
  const count = (run: SideRun): Record<(typeof summaryFigures)[number], number> => ({
    ticks: run.ticks,
    isolations: run.actions.filter((a) => a.type === 'isolate' && a.status === 'applied').length,
    reinstatements: run.actions.filter((a) => a.type === 'reinstate' && a.status === 'applied')
      .length,
    actions: run.actions.filter((a) => a.status === 'applied').length,
    held: run.actions.filter((a) => a.status === 'held').length,
    transitions: run.transitions.length,
    refused: run.refused,
  });
  const a = count(policy);
  const b = count(baseline);
  return summaryFigures.map((figure) => ({ figure, policy: a[figure], baseline: b[figure] }));
}
