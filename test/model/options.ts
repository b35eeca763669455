import { policies } from './policies.js';

/**
 * The supervisor options the model is written for. Each is chosen so that what the supervisor
 * does stays predictable by a small model, as the README documents it:
 *
 * - Time moves in half ticks and ticks fire on whole seconds, so every tick is on time (no
 *   self-distrust) and heartbeats arrive either with a tick or halfway between two.
 * - Escalation has no jitter, and every backoff, probation and reset period ends on a half
 *   tick, so no tick falls on a boundary the README leaves open ("after", "for").
 * - Flapping never fires (`maxTransitions` is out of reach): random scenarios flap all the
 *   time, and isolating every flapping node would hide everything else.
 * - The isolation cap is modelled (half the fleet, at least one node). The partition guard and
 *   the rate limits are out of reach, since five nodes crash together often.
 */
export const modelOptions = {
  tickMs: 1000,
  heartbeatTimeoutMs: 3000,
  overload: { high: 0.9, low: 0.5, ticks: 2 },
  escalation: {
    baseMs: 3500,
    multiplier: 3,
    maxMs: 20_500,
    jitter: 0,
    probationMs: 5500,
    resetAfterMs: 30_500,
  },
  flapping: { maxTransitions: 1_000_000, windowMs: 60_000, holdMs: 120_000 },
  safety: {
    maxIsolatedFraction: 0.5,
    partitionFraction: 1,
    maxActionsPerTick: 1_000_000,
    maxIsolationsPerMinute: 1_000_000,
  },
  policy: policies.none.policy,
};

/** Clock steps: half a tick. */
export const stepMs = modelOptions.tickMs / 2;
