import { InvalidOptionsError } from '../errors.js';
import { show } from '../show.js';
import type { TrustEntry, TrustOptions, TrustState } from './types.js';

export const defaultTrust: TrustOptions = {
  weights: {
    critical: 0.3,
    high: 0.15,
    medium: 0.05,
    low: 0.02,
    info: 0,
    offline: 0.1,
    flapping: 0.2,
    rejectedHeartbeat: 0.02,
    impersonation: 0.3,
    licence: 0.4,
  },
  recoveryPerMinute: 0.01,
  goodStandingMs: 300_000,
};

const maxEntries = 50;

/**
 * Trust at `at`: the value after the last incident while the node has not yet been in good
 * standing for `goodStandingMs`, then rising linearly to 1. A closed form, so a node nobody
 * penalised costs nothing per tick, and one that was costs a few arithmetic operations.
 */
export function trustAt(state: TrustState | undefined, at: number, options: TrustOptions): number {
  if (state === undefined) return 1;
  const goodFor = at - state.penalizedAt - options.goodStandingMs;
  if (goodFor <= 0) return state.base;
  return Math.min(1, state.base + (options.recoveryPerMinute * goodFor) / 60_000);
}

/**
 * Applies one tick's incidents to a node. Falls from the value it had at the previous tick, so
 * the recovery of the tick being judged is forfeited: trust never rises on a tick with an
 * incident, whatever the rates.
 */
export function penalise(
  state: TrustState | undefined,
  incidents: ReadonlyArray<Omit<TrustEntry, 'at' | 'tick'>>,
  tick: number,
  at: number,
  previousAt: number,
  options: TrustOptions,
): TrustState {
  const next = state ?? { base: 1, penalizedAt: Number.NEGATIVE_INFINITY, entries: [] };
  const before = trustAt(state, previousAt, options);
  if (state !== undefined && before > state.base) {
    next.entries.push({
      at: previousAt,
      tick: tick - 1,
      kind: 'recovery',
      detail: 'time in good standing',
      delta: before - state.base,
    });
  }
  let value = before;
  for (const incident of incidents) {
    const moved = Math.max(0, value + incident.delta) - value;
    value += moved;
    next.entries.push({ ...incident, delta: moved, at, tick });
  }
  if (next.entries.length > maxEntries) next.entries.splice(0, next.entries.length - maxEntries);
  next.base = value;
  next.penalizedAt = at;
  return next;
}

/**
 * A node still failing a rule is not in good standing: its recovery up to the previous tick is
 * kept, this tick's is forfeited, and the good-standing clock starts again.
 */
export function hold(
  state: TrustState,
  at: number,
  previousAt: number,
  options: TrustOptions,
): void {
  if (state.penalizedAt >= at) return;
  state.base = trustAt(state, previousAt, options);
  state.penalizedAt = at;
}

/** Checks the `trust` option over the defaults. */
export function resolveTrust(input: unknown): TrustOptions {
  if (input === undefined) return defaultTrust;
  if (typeof input !== 'object' || input === null) {
    throw new InvalidOptionsError(
      'trust',
      'expected { weights?, recoveryPerMinute?, goodStandingMs? }',
    );
  }
  const {
    weights = {},
    recoveryPerMinute,
    goodStandingMs,
    ...rest
  } = input as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) {
    throw new InvalidOptionsError(
      `trust.${unknown}`,
      'is not an option; the options are weights, recoveryPerMinute, goodStandingMs',
    );
  }
  if (typeof weights !== 'object' || weights === null) {
    throw new InvalidOptionsError('trust.weights', 'expected an object of weights');
  }
  const resolved: Record<string, number> = { ...defaultTrust.weights };
  for (const [name, weight] of Object.entries(weights)) {
    if (!(name in resolved)) {
      throw new InvalidOptionsError(
        `trust.weights.${name}`,
        `is not a weight; the weights are ${Object.keys(resolved).join(', ')}`,
      );
    }
    resolved[name] = between(weight, 0, 1, `trust.weights.${name}`);
  }
  return {
    weights: resolved as unknown as TrustOptions['weights'],
    recoveryPerMinute: between(
      recoveryPerMinute ?? defaultTrust.recoveryPerMinute,
      0,
      1,
      'trust.recoveryPerMinute',
    ),
    goodStandingMs: between(
      goodStandingMs ?? defaultTrust.goodStandingMs,
      0,
      Number.MAX_SAFE_INTEGER,
      'trust.goodStandingMs',
    ),
  };
}

function between(value: unknown, min: number, max: number, path: string): number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw new InvalidOptionsError(
      path,
      `must be a number from ${min} to ${max}, got ${show(value)}`,
    );
  }
  return value;
}
