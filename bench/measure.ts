import { Bench } from 'tinybench';
import { quick } from './mode.js';

/** One measured task. Times are per call of the task, in milliseconds. */
export interface Figure {
  readonly label: string;
  readonly unit: 'ms';
  readonly mean: number;
  /** The median: steadier than the mean on a busy machine. */
  readonly p50: number;
  readonly p99: number;
  /** Relative margin of error of the mean (95 % confidence), in percent. */
  readonly rme: number;
  readonly samples: number;
  /** Rule evaluations (nodes × rules) one call performs. */
  readonly evaluations: number;
  /** `evaluations` / mean time. */
  readonly evaluationsPerSecond: number;
}

/** `at most`: the ratio must not exceed `value`; `at least`: it must reach it. */
export interface Budget {
  readonly kind: 'at most' | 'at least';
  readonly value: number;
}

export interface ScenarioResult {
  readonly name: string;
  /** What the ratio divides by what. */
  readonly ratioOf: string;
  readonly figures: readonly Figure[];
  readonly ratio: number;
  readonly budget: Budget;
  readonly meets: boolean;
  /** Numbers worked out from the figures that help read them; not budgeted. */
  readonly derived: readonly Derived[];
}

export interface Derived {
  readonly label: string;
  readonly value: number;
  readonly unit: string;
}

export interface TaskSpec {
  readonly label: string;
  readonly evaluations: number;
  readonly fn: () => unknown;
  /**
   * Runs before every call of `fn`, outside the timed part (heartbeats before a tick). `fn`
   * must then be synchronous: it is declared so, since tinybench would otherwise call it once,
   * without `beforeEach`, to find out.
   */
  readonly beforeEach?: () => void;
}

export interface MeasureOptions {
  /** Minimum time per task, ms. */
  readonly time: number;
  /** Minimum samples per task: a task runs until both minimums are met. */
  readonly iterations: number;
  readonly warmupTime?: number;
  readonly warmupIterations?: number;
}

/** Runs the tasks one after the other with tinybench and returns a figure per task. */
export async function measure(
  tasks: readonly TaskSpec[],
  options: MeasureOptions,
): Promise<Figure[]> {
  // Quick mode (CI): run each task twice, no warm-up; the figures are not meant to be read.
  const bench = new Bench({
    time: quick ? 0 : options.time,
    iterations: quick ? 2 : options.iterations,
    warmupTime: quick ? 0 : (options.warmupTime ?? 500),
    warmupIterations: quick ? 0 : (options.warmupIterations ?? 5),
    throws: true,
  });
  for (const task of tasks) {
    const { beforeEach } = task;
    bench.add(task.label, task.fn, beforeEach === undefined ? {} : { beforeEach, async: false });
  }
  bench.addEventListener('cycle', (event) => {
    const { result } = event.task;
    const mean = 'latency' in result ? `${result.latency.mean.toFixed(2)} ms` : result.state;
    process.stderr.write(`  measured ${event.task.name}: ${mean}\n`);
  });
  await bench.run();

  return tasks.map((spec) => {
    const task = bench.getTask(spec.label);
    const result = task?.result;
    if (result === undefined || result.state !== 'completed') {
      throw new Error(`task ${spec.label} did not complete (${result?.state ?? 'missing'})`);
    }
    const { mean, p50, p99, rme, samplesCount } = result.latency;
    return {
      label: spec.label,
      unit: 'ms',
      mean,
      p50,
      p99,
      rme,
      samples: samplesCount,
      evaluations: spec.evaluations,
      evaluationsPerSecond: spec.evaluations / (mean / 1000),
    };
  });
}

/** Keeps a task's result reachable so the engine cannot drop the work that produced it. */
export let sink: unknown;
export function keep(value: unknown): void {
  sink = value;
}
