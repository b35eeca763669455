import type { Figure } from '../measure.js';

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
