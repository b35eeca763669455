import { InvalidArgumentError } from '../errors.js';

const units: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as `500ms`, `3s`, `1.5m`, `1h`, or a number of ms, into whole ms. `name` says
 * what was being read (a flag, a config entry) in the error.
 */
export function parseDuration(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const match =
    typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim()) : null;
  const ms = match ? Number(match[1]) * (units[match[2] ?? 'ms'] as number) : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError(
      name,
      `expected a duration such as 500ms, 3s, 1m or 1h (a whole number of ms), got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}
