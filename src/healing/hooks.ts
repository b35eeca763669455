import type { Clock } from '../clock.js';
import { InvalidOptionsError } from '../errors.js';
import { show, thrownMessage } from '../show.js';
import type { RemediationAction } from '../types.js';

/** What a hook is given besides the action, for one attempt. */
export interface HookContext {
  /** Aborted when the attempt times out: stop the work and release what it holds. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
}

/**
 * Carries out one remediation action (a recovery script, a mesh propagation, ...). Its
 * resolved value is recorded as the action's output; a throw or a rejection fails the attempt.
 *
 * @example
 * const drain: ActionHook = async (action, { signal }) => {
 *   const res = await fetch(`http://lb/drain/${action.nodeId}`, { method: 'POST', signal });
 *   return { status: res.status };
 * };
 */
export type ActionHook = (
  action: RemediationAction,
  ctx: HookContext,
) => unknown | Promise<unknown>;

/** How long a hook may run and how often it is retried. */
export interface HookPolicy {
  /**
   * An attempt that has not settled after this long fails and its signal is aborted.
   * @defaultValue 10_000
   */
  readonly timeoutMs: number;
  /**
   * Attempts after the first one; a hook runs at most `retries + 1` times.
   * @defaultValue 2
   */
  readonly retries: number;
  /**
   * The wait before the first retry, doubled before each later one
   * (`backoffMs * 2^(retry - 1)`).
   * @defaultValue 500
   */
  readonly backoffMs: number;
}

/** What became of one action's hook, as data: `runHook` never rejects. */
export interface HookOutcome {
  readonly status: 'applied' | 'failed';
  readonly attempts: number;
  /** What the hook resolved to, when it was applied. */
  readonly output?: unknown;
  /** The last attempt's error message, or `timed out after N ms`, when it failed. */
  readonly error?: string;
  /** Clock time when the first attempt started. */
  readonly startedAt: number;
  /** Clock time when the outcome was decided. */
  readonly finishedAt: number;
}

export const defaultHookPolicy: HookPolicy = { timeoutMs: 10_000, retries: 2, backoffMs: 500 };

const policyKeys = Object.keys(defaultHookPolicy);

/**
 * Fills in the defaults of a hook policy and checks it; errors name the option under `path`
 * (`resolveHookPolicy({ timeoutMs: 0 }, 'hooks')` throws for `hooks.timeoutMs`).
 */
export function resolveHookPolicy(
  input: Partial<HookPolicy> | undefined,
  path: string,
): HookPolicy {
  const prefix = path === '' ? '' : `${path}.`;
  if (input === undefined) return defaultHookPolicy;
  if (typeof input !== 'object' || input === null) {
    throw new InvalidOptionsError(
      path || 'hooks',
      'expected an object like { timeoutMs, retries, backoffMs }',
    );
  }
  for (const key of Object.keys(input)) {
    if (!policyKeys.includes(key)) {
      throw new InvalidOptionsError(
        `${prefix}${key}`,
        `is not an option; the options are ${policyKeys.map((k) => prefix + k).join(', ')}`,
      );
    }
  }
  const timeoutMs = integer(input.timeoutMs ?? defaultHookPolicy.timeoutMs, `${prefix}timeoutMs`);
  if (timeoutMs === 0) {
    throw new InvalidOptionsError(`${prefix}timeoutMs`, 'must be greater than 0');
  }
  return {
    timeoutMs,
    retries: integer(input.retries ?? defaultHookPolicy.retries, `${prefix}retries`),
    backoffMs: integer(input.backoffMs ?? defaultHookPolicy.backoffMs, `${prefix}backoffMs`),
  };
}

function integer(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionsError(path, `must be a non-negative integer, got ${show(value)}`);
  }
  return value;
}

/**
 * Runs `hook` for `action` under `policy`: each attempt is timed out on `clock` after
 * `timeoutMs` (its signal aborted), and a failed attempt is retried after an exponential
 * backoff, also on `clock`. Never rejects: failure is a `failed` outcome with the last error.
 */
export async function runHook(
  hook: ActionHook,
  action: RemediationAction,
  policy: HookPolicy,
  clock: Clock,
): Promise<HookOutcome> {
  const startedAt = clock.now();
  const maxAttempts = policy.retries + 1;
  let error = '';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await delay(clock, policy.backoffMs * 2 ** (attempt - 2));
    const result = await attemptOnce(hook, action, attempt, policy.timeoutMs, clock);
    if (result.ok) {
      return {
        status: 'applied',
        attempts: attempt,
        output: result.output,
        startedAt,
        finishedAt: clock.now(),
      };
    }
    error = result.error;
  }
  return { status: 'failed', attempts: maxAttempts, error, startedAt, finishedAt: clock.now() };
}

type AttemptResult = { ok: true; output: unknown } | { ok: false; error: string };

function attemptOnce(
  hook: ActionHook,
  action: RemediationAction,
  attempt: number,
  timeoutMs: number,
  clock: Clock,
): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const controller = new AbortController();
    let settled = false;
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      resolve(result);
    };
    const timer = clock.setTimeout(() => {
      if (settled) return;
      const error = `timed out after ${timeoutMs} ms`;
      settle({ ok: false, error });
      controller.abort(new Error(error));
    }, timeoutMs);

    let returned: unknown;
    try {
      returned = hook(action, { signal: controller.signal, attempt });
    } catch (thrown) {
      settle({ ok: false, error: thrownMessage(thrown) });
      return;
    }
    // A hook that settles after its timeout is ignored, but its rejection is still handled
    // here so that it never surfaces as an unhandled rejection.
    Promise.resolve(returned).then(
      (output) => settle({ ok: true, output }),
      (rejected) => settle({ ok: false, error: thrownMessage(rejected) }),
    );
  });
}

function delay(clock: Clock, ms: number): Promise<void> {
  // A zero-length timer on a simulated clock would wait for the next increment.
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
