import { InvalidArgumentError } from './errors.js';

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Whole milliseconds from a duration such as `500ms`, `3s`, `1.5m`, `1h` or `1h30m`, or from a
 * number of ms (as config files give it). Throws InvalidArgumentError naming `name` (a flag, a
 * config entry).
 */
export function parseDuration(value: unknown, name = 'duration'): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text);
    else {
      const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
      if (parts.length > 0 && parts.map((p) => p[0]).join('') === text) {
        ms = 0;
        for (const [, amount, unit] of parts)
          ms += Number(amount) * unitMs[unit as keyof typeof unitMs];
      }
    }
  }
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new InvalidArgumentError(
      name,
      `expected a duration such as 500ms, 3s, 1m, 1h or 1h30m (a whole number of ms), got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** `3600000` → `1h`, `90000` → `1m30s`, `1500` → `1.5s`: the shortest exact rendering. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${ms / 1000}s`;
  let rest = ms;
  let text = '';
  for (const unit of ['d', 'h', 'm'] as const) {
    const size = unitMs[unit];
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest === 0 ? text : `${text}${rest / 1000}s`;
}
