import { readFile } from 'node:fs/promises';
import { InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { formatDuration, parseDuration } from '../duration.js';
import { InvalidArgumentError, WyneosError } from '../errors.js';
import { type ActionHook, commandHook } from '../healing/index.js';

// Flag parsers for commander: each turns the text into a value or throws commander's error,
// so a bad flag is reported like any other (`option '--tick <duration>' argument ... is invalid`).

export function duration(value: string): number {
  try {
    return parseDuration(value, 'duration');
  } catch (error) {
    throw new CommanderArgumentError(
      error instanceof WyneosError ? 'expected a duration such as 500ms, 3s or 1m.' : String(error),
    );
  }
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) {
      throw new CommanderArgumentError(`expected one of ${values.join(', ')}.`);
    }
    return value as T;
  };
}

export function durationAtLeast(minimumMs: number) {
  return (value: string): number => {
    const ms = duration(value);
    if (ms < minimumMs) {
      throw new CommanderArgumentError(
        `expected a duration of at least ${formatDuration(minimumMs)}.`,
      );
    }
    return ms;
  };
}

/** A duration of at least 1 ms (a tick, a run length). */
export const positiveDuration = durationAtLeast(1);

/** A duration flag with a default, which its help shows as a duration too (`1h`, not `3600000`). */
export function durationOption(
  flags: string,
  description: string,
  defaultMs: number,
  minimumMs = 1,
): Option {
  return new Option(flags, description)
    .argParser(durationAtLeast(minimumMs))
    .default(defaultMs, formatDuration(defaultMs));
}

export function integerAtLeast(minimum: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < minimum) {
      throw new CommanderArgumentError(`expected a whole number of at least ${minimum}.`);
    }
    return number;
  };
}

export function port(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) {
    throw new CommanderArgumentError('expected a port from 0 to 65535 (0 picks a free one).');
  }
  return number;
}

export function decimal(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new CommanderArgumentError('expected a number such as 0.9.');
  }
  return Number(value);
}

/** A repeatable flag collecting its values. */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/** `--on-isolate "./drain.sh --graceful"`: a command hook, the line split at spaces (no shell). */
export function commandLine(line: string): ActionHook {
  const [command = '', ...args] = line.trim().split(/\s+/);
  return commandHook({ command, args });
}

/** Reads the file a flag names; a failure names the flag. */
export async function readFlagFile(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InvalidArgumentError(flag, `cannot read ${path}: ${(error as Error).message}`);
  }
}
