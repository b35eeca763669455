import type { KeyObject } from 'node:crypto';
import { InvalidOptionsError } from '../errors.js';
import { show } from '../show.js';
import { trustedKeys } from './keys.js';
import type { LicensingOptions } from './types.js';

/** The `licensing` option checked, with its defaults. */
export interface ResolvedLicensing {
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly required: boolean;
  readonly issuer: string | undefined;
  readonly warnBeforeMs: number;
  readonly graceMs: number;
}

export const defaultLicensing = { required: true, warnBeforeMs: 7 * 86_400_000, graceMs: 0 };

const known = new Set(['keys', 'required', 'issuer', 'warnBeforeMs', 'graceMs']);

/** Checks the `licensing` option; undefined means licensing is off. */
export function resolveLicensing(
  input: LicensingOptions | undefined,
): ResolvedLicensing | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== 'object' || input === null) {
    throw new InvalidOptionsError(
      'licensing',
      'expected { keys, required?, issuer?, warnBeforeMs?, graceMs? }',
    );
  }
  for (const key of Object.keys(input)) {
    if (!known.has(key)) {
      throw new InvalidOptionsError(
        `licensing.${key}`,
        `is not an option; the options are ${[...known].join(', ')}`,
      );
    }
  }
  const required = input.required ?? defaultLicensing.required;
  if (typeof required !== 'boolean') {
    throw new InvalidOptionsError('licensing.required', `must be a boolean, got ${show(required)}`);
  }
  if (input.issuer !== undefined && (typeof input.issuer !== 'string' || input.issuer === '')) {
    throw new InvalidOptionsError(
      'licensing.issuer',
      `must be a non-empty string, got ${show(input.issuer)}`,
    );
  }
  return {
    keys: trustedKeys(input.keys),
    required,
    issuer: input.issuer,
    warnBeforeMs: duration(
      input.warnBeforeMs ?? defaultLicensing.warnBeforeMs,
      'licensing.warnBeforeMs',
    ),
    graceMs: duration(input.graceMs ?? defaultLicensing.graceMs, 'licensing.graceMs'),
  };
}

function duration(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(path, `must be a number of ms, at least 0, got ${show(value)}`);
  }
  return value;
}
