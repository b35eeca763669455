import { InvalidOptionsError } from '../errors.js';
import { show } from '../show.js';

// The checks every option goes through: each failure names the option and says what it wants.

/**
 * An object of numbers over its defaults: every key known, every value a finite number at
 * least its minimum (`minimums`, default: above 0).
 */
export function numbersIn<T extends object>(
  input: Partial<T> | undefined,
  defaults: Readonly<T>,
  path: string,
  minimums: Partial<Record<keyof T, number>>,
): T {
  const value = input ?? {};
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionsError(path, 'expected an object');
  }
  rejectUnknown(value, new Set(Object.keys(defaults)), `${path}.`);
  const resolved = { ...defaults } as Record<string, number>;
  for (const [key, given] of Object.entries(value)) {
    if (given === undefined) continue;
    const minimum = minimums[key as keyof T];
    const ok =
      typeof given === 'number' &&
      Number.isFinite(given) &&
      (minimum === undefined ? given > 0 : given >= minimum);
    if (!ok) {
      const wanted =
        minimum === undefined ? 'a positive number' : `a number of at least ${minimum}`;
      throw new InvalidOptionsError(`${path}.${key}`, `must be ${wanted}, got ${show(given)}`);
    }
    resolved[key] = given as number;
  }
  return resolved as T;
}

export function rejectUnknown(object: object, known: ReadonlySet<string>, prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) {
      throw new InvalidOptionsError(
        `${prefix}${key}`,
        `is not an option; the options are ${[...known].map((k) => prefix + k).join(', ')}`,
      );
    }
  }
}

export function positiveInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionsError(path, `must be a positive integer, got ${show(value)}`);
  }
  return value;
}

export function fraction(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidOptionsError(path, `must be a number between 0 and 1, got ${show(value)}`);
  }
  return value;
}
