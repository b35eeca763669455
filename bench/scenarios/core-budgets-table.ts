import type { TickTimes } from '../churn.js';
import type { Figure } from '../measure.js';

/** The size the absolute budgets are stated for; larger ones must grow linearly. */
const reference = 100_000;
/** Registrations per `registerMany`: what the NATS subscriber hands it when many arrive. */
export const registerBatch = 1_000;

export interface SupervisorFigures {
  readonly registerMs: number;
  readonly heapPerNode: number | undefined;
  readonly ticks: TickTimes;
  readonly ingestPerSecond: number | undefined;
  readonly ingestPath: string;
}

export interface SizeFigures {
  readonly size: number;
  readonly info: SupervisorFigures;
  readonly silent: SupervisorFigures;
  readonly lean: { readonly ticks: TickTimes; readonly heapPerNode: number };
  /** The lean reference calling the ten rules as closures on a node view (information). */
  readonly leanRules: { readonly ticks: TickTimes };
  readonly wallS: number;
  readonly maxRssGiB: number;
}

/** One figure of `core-budgets`, and its budget when issue 16 sets one. */
export interface BudgetRow {
  readonly size: number;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly budget?: {
    readonly at: 'most' | 'least';
    readonly value: number;
    readonly text: string;
  };
  /** Undefined when the figure has no budget. */
  readonly met: boolean | undefined;
}

/** Prints the figures as one table: nodes, figure, measured, budget, met or missed. */
export function printBudgets(rows: readonly BudgetRow[]): void {
  const cells = rows.map((r) => [
    r.size.toLocaleString('en-US'),
    r.label,
    `${format(r.value)} ${r.unit}`,
    r.budget?.text ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const header = ['nodes', 'figure', 'measured', 'budget', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: readonly string[]) =>
    c.map((x, i) => (i === 2 ? x.padStart(widths[i] ?? 0) : x.padEnd(widths[i] ?? 0))).join('  ');
  console.log(`\n  ${line(header)}`);
  for (const c of cells) console.log(`  ${line(c)}`);
  console.log('');
}

function format(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A tinybench-like figure from raw tick times, so `bench/run.ts` can print it. */
export function tickFigure(label: string, samples: readonly number[], evaluations: number): Figure {
  const n = samples.length;
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? samples.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1) : 0;
  return {
    label,
    unit: 'ms',
    mean,
    p50: sorted[n >> 1] as number,
    p99: sorted[Math.min(n - 1, Math.ceil(0.99 * n) - 1)] as number,
    rme: n > 1 ? (196 * Math.sqrt(variance / n)) / mean : 0,
    samples: n,
    evaluations,
    evaluationsPerSecond: evaluations / (mean / 1000),
  };
}

export function budgetRows(measured: readonly SizeFigures[]): BudgetRow[] {
  const ref = measured.find((m) => m.size === reference);
  const rows: BudgetRow[] = [];
  for (const m of measured) {
    const atRef = m.size === reference;
    // Past 100,000 the budget is linear growth: within 1.2 × the size ratio of that figure.
    const growth = m.size / reference;
    const linear = (refValue: number | undefined, absolute: number, unit: string) =>
      atRef || refValue === undefined
        ? { at: 'most' as const, value: absolute, text: `≤ ${absolute} ${unit}` }
        : {
            at: 'most' as const,
            value: refValue * growth * 1.2,
            text: `≤ ${(growth * 1.2).toFixed(1)}× the 100,000 figure`,
          };
    const info = mean(m.info.ticks.samples);
    const silent = mean(m.silent.ticks.samples);
    const lean = mean(m.lean.ticks.samples);
    const row = (
      label: string,
      value: number,
      unit: string,
      budget?: BudgetRow['budget'],
    ): BudgetRow => ({
      size: m.size,
      label,
      value,
      unit,
      ...(budget === undefined ? {} : { budget }),
      met:
        budget === undefined
          ? undefined
          : budget.at === 'most'
            ? value <= budget.value
            : value >= budget.value,
    });
    rows.push(
      row(
        'tick, info logging to /dev/null',
        info,
        'ms',
        linear(ref && mean(ref.info.ticks.samples), 100, 'ms'),
      ),
      row('tick, logging silent', silent, 'ms'),
      row('tick, lean reference', lean, 'ms'),
      row('tick info / lean', info / lean, '×', { at: 'most', value: 3, text: '≤ 3×' }),
      row('tick silent / lean', silent / lean, '×'),
      row('tick, lean calling the rule closures', mean(m.leanRules.ticks.samples), 'ms'),
      row('tick info / lean calling the closures', info / mean(m.leanRules.ticks.samples), '×'),
      row('GC share of tick, info', (100 * m.info.ticks.gcMs) / sum(m.info.ticks.samples), '%', {
        at: 'most',
        value: 10,
        text: '≤ 10 %',
      }),
      row(
        'GC share of tick, silent',
        (100 * m.silent.ticks.gcMs) / sum(m.silent.ticks.samples),
        '%',
      ),
      row(
        `registration, registerMany × ${registerBatch} (NATS path), silent`,
        m.silent.registerMs / 1000,
        's',
        linear(ref && ref.silent.registerMs / 1000, 2, 's'),
      ),
      row(`registration, the same, info`, m.info.registerMs / 1000, 's'),
      row('heap per node (silent supervisor)', (m.silent.heapPerNode ?? 0) / 1024, 'KiB', {
        at: 'most',
        value: 2,
        text: '≤ 2 KiB',
      }),
      row('heap per node, lean (columns + ids)', m.lean.heapPerNode / 1024, 'KiB'),
      row(
        `heartbeat ingest, ${m.silent.ingestPath}`,
        (m.silent.ingestPerSecond ?? 0) / 1e6,
        'M/s',
        {
          at: 'least',
          value: 3,
          text: '≥ 3 M/s',
        },
      ),
      row('wall time of this size', m.wallS, 's'),
      row('peak RSS of the process so far', m.maxRssGiB, 'GiB'),
    );
  }
  return rows;
}

export const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
export const mean = (xs: readonly number[]) => sum(xs) / xs.length;
