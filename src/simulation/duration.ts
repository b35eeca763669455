import { InvalidArgumentError } from '../errors.js';

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Milliseconds from a duration such as `500ms`, `3s`, `1.5m`, `1h` or `1h30m`; a bare number is
 * milliseconds. Throws InvalidArgumentError naming `what`.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed));
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const joined = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || joined !== trimmed) {
    throw new InvalidArgumentError(
      what,
      `${JSON.stringify(text)} is not a duration (examples: 500ms, 3s, 1m, 1h30m)`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of parts) ms += Number(amount) * unitMs[unit as keyof typeof unitMs];
  return Math.round(ms);
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
