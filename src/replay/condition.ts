import { InvalidConditionError } from '../errors.js';
import { type ReplayResult, summaryFigures } from './replay.js';

/**
 * A `--fail-if` condition: comparisons `name op number` joined by `&&` and `||` (`&&` binds
 * tighter; no parentheses). A summary figure (`isolations`) is its change, the new policy's
 * count less the baseline's; `policy.isolations` and `baseline.isolations` are the counts
 * themselves. `differences`, `damaged` (damaged parts) and `skipped` (bytes) are the replay's.
 */
export type Condition = (result: ReplayResult) => boolean;

const operators = ['>=', '<=', '==', '!=', '>', '<'] as const;
const comparison = /^\s*([a-z][a-z.]*)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** The names a condition may use. */
export function conditionNames(): string[] {
  return [
    ...summaryFigures,
    ...summaryFigures.map((f) => `policy.${f}`),
    ...summaryFigures.map((f) => `baseline.${f}`),
    'differences',
    'damaged',
    'skipped',
  ];
}

/** Parses `text`, checking every name, so a typo fails before the replay runs. */
export function parseCondition(text: string): Condition {
  if (text.trim().length === 0) throw new InvalidConditionError(text, 1, 'it is empty');
  const known = new Set(conditionNames());
  let column = 1;
  const alternatives = text.split('||').map((alternative) => {
    const all = alternative.split('&&').map((part) => {
      const here = column;
      column += part.length + 2;
      const match = comparison.exec(part);
      if (match === null) {
        throw new InvalidConditionError(
          text,
          part.trim().length === 0 ? here : here + (part.length - part.trimStart().length),
          `expected name op number, such as 'isolations > 0' (op: ${operators.join(' ')})`,
        );
      }
      const [, name, op, number] = match as unknown as [string, string, string, string];
      if (!known.has(name)) {
        throw new InvalidConditionError(
          text,
          here + part.indexOf(name),
          `unknown figure '${name}'; known: ${conditionNames().join(', ')}`,
        );
      }
      const limit = Number(number);
      return (result: ReplayResult) => compare(figure(result, name), op, limit);
    });
    return (result: ReplayResult) => all.every((test) => test(result));
  });
  return (result) => alternatives.some((test) => test(result));
}

function figure(result: ReplayResult, name: string): number {
  if (name === 'differences') return result.differences.length;
  if (name === 'damaged') return result.trace.damage.length;
  if (name === 'skipped') return result.trace.skippedBytes;
  const [side, figureName] = name.includes('.') ? name.split('.') : [undefined, name];
  const row = result.summary.find((r) => r.figure === figureName);
  if (row === undefined) return 0;
  if (side === 'policy') return row.policy;
  if (side === 'baseline') return row.baseline;
  return row.policy - row.baseline;
}

function compare(value: number, op: string, limit: number): boolean {
  switch (op) {
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '==':
      return value === limit;
    default:
      return value !== limit;
  }
}
