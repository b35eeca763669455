import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RemediationAction } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import {
  type ActionHook,
  type HookOutcome,
  type HookPolicy,
  resolveHookPolicy,
  runHook,
} from '../src/healing/hooks.js';

const action: RemediationAction = {
  type: 'isolate',
  nodeId: 'n1',
  reason: 'heartbeat lost',
  tick: 7,
  at: 7000,
};

const policy: HookPolicy = { timeoutMs: 1000, retries: 2, backoffMs: 100 };

/** Lets every pending promise callback run; it waits for no time, simulated or real. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts `runHook` and exposes its outcome once it is decided, without awaiting it. */
function start(hook: ActionHook, p: HookPolicy, clock: SimulatedClock) {
  const run: { outcome: HookOutcome | undefined } = { outcome: undefined };
  void runHook(hook, action, p, clock).then((outcome) => {
    run.outcome = outcome;
  });
  return run;
}

describe('hooks', () => {
  it('applies an action on the first success, recording its output and one attempt', async () => {
    const clock = new SimulatedClock();
    clock.set(42);
    const seen: Array<{ attempt: number; nodeId: string }> = [];
    const outcome = await runHook(
      async (a, ctx) => {
        seen.push({ attempt: ctx.attempt, nodeId: a.nodeId });
        return { drained: true };
      },
      action,
      policy,
      clock,
    );
    expect(outcome).toEqual({
      status: 'applied',
      attempts: 1,
      output: { drained: true },
      startedAt: 42,
      finishedAt: 42,
    });
    expect(seen).toEqual([{ attempt: 1, nodeId: 'n1' }]);
  });

  it('retries after a throw and after a rejection, and applies on the later attempt', async () => {
    const clock = new SimulatedClock();
    const run = start(
      (_a, { attempt }) => {
        if (attempt === 1) throw new Error('script missing');
        if (attempt === 2) return Promise.reject(new Error('mesh unreachable'));
        return 'ok';
      },
      policy,
      clock,
    );
    await flush();
    clock.increment(100);
    await flush();
    expect(run.outcome).toBeUndefined();
    clock.increment(200);
    await flush();
    expect(run.outcome).toEqual({
      status: 'applied',
      attempts: 3,
      output: 'ok',
      startedAt: 0,
      finishedAt: 300,
    });
  });

  it('fails after the retries with the last error', async () => {
    const clock = new SimulatedClock();
    const run = start(
      (_a, { attempt }) => {
        throw new Error(`broken ${attempt}`);
      },
      { timeoutMs: 1000, retries: 1, backoffMs: 50 },
      clock,
    );
    await flush();
    clock.increment(50);
    await flush();
    expect(run.outcome).toEqual({
      status: 'failed',
      attempts: 1 + 1,
      error: 'broken 2',
      startedAt: 0,
      finishedAt: 50,
    });
  });

  it('records a thrown non-error value by its string form', async () => {
    const clock = new SimulatedClock();
    const outcome = await runHook(
      () => Promise.reject('exit 3'),
      action,
      { ...policy, retries: 0 },
      clock,
    );
    expect(outcome).toMatchObject({ status: 'failed', attempts: 1, error: 'exit 3' });
  });

  it('times out a hook that never settles on the clock and aborts its signal', async () => {
    const clock = new SimulatedClock();
    const signals: AbortSignal[] = [];
    const run = start(
      (_a, { signal }) => {
        signals.push(signal);
        return new Promise(() => {});
      },
      { timeoutMs: 1000, retries: 0, backoffMs: 100 },
      clock,
    );
    await flush();
    clock.increment(999);
    await flush();
    expect(run.outcome).toBeUndefined();
    expect(signals[0]?.aborted).toBe(false);
    clock.increment(1);
    await flush();
    expect(run.outcome).toEqual({
      status: 'failed',
      attempts: 1,
      error: 'timed out after 1000 ms',
      startedAt: 0,
      finishedAt: 1000,
    });
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ message: 'timed out after 1000 ms' });
  });

  it('ignores a hook that settles after its timeout and retries it', async () => {
    const clock = new SimulatedClock();
    const late: Array<(value: string) => void> = [];
    const run = start(
      (_a, { attempt }) =>
        attempt === 1 ? new Promise<string>((resolve) => late.push(resolve)) : 'second',
      { timeoutMs: 10, retries: 1, backoffMs: 0 },
      clock,
    );
    await flush();
    clock.increment(10);
    late[0]?.('too late');
    await flush();
    expect(run.outcome).toMatchObject({ status: 'applied', attempts: 2, output: 'second' });
  });

  it('waits a backoff that doubles before each retry, measured on the clock', async () => {
    const clock = new SimulatedClock();
    const startedAt: number[] = [];
    const run = start(
      () => {
        startedAt.push(clock.now());
        throw new Error('down');
      },
      { timeoutMs: 1000, retries: 3, backoffMs: 100 },
      clock,
    );
    const advance = async (ms: number) => {
      clock.increment(ms);
      await flush();
    };
    await flush();
    expect(startedAt).toEqual([0]);
    await advance(99);
    expect(startedAt).toEqual([0]);
    await advance(1);
    expect(startedAt).toEqual([0, 100]);
    await advance(199);
    expect(startedAt).toEqual([0, 100]);
    await advance(1);
    expect(startedAt).toEqual([0, 100, 300]);
    await advance(399);
    expect(startedAt).toEqual([0, 100, 300]);
    await advance(1);
    expect(startedAt).toEqual([0, 100, 300, 700]);
    expect(run.outcome).toMatchObject({ status: 'failed', attempts: 4, finishedAt: 700 });
  });

  it('fills in the default policy', () => {
    expect(resolveHookPolicy(undefined, 'hooks')).toEqual({
      timeoutMs: 10_000,
      retries: 2,
      backoffMs: 500,
    });
    expect(resolveHookPolicy({ retries: 0 }, 'hooks')).toEqual({
      timeoutMs: 10_000,
      retries: 0,
      backoffMs: 500,
    });
  });

  it('rejects an invalid policy with an error that names the option', () => {
    const cases: Array<[Partial<HookPolicy>, string]> = [
      [{ timeoutMs: 0 }, 'hooks.timeoutMs'],
      [{ timeoutMs: 1.5 }, 'hooks.timeoutMs'],
      [{ retries: -1 }, 'hooks.retries'],
      [{ backoffMs: Number.NaN }, 'hooks.backoffMs'],
      [{ backoffMs: '5' as unknown as number }, 'hooks.backoffMs'],
      [{ tries: 3 } as Partial<HookPolicy>, 'hooks.tries'],
    ];
    for (const [input, path] of cases) {
      expect(() => resolveHookPolicy(input, 'hooks')).toThrow(
        expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_OPTIONS', path }),
      );
    }
    expect(() => resolveHookPolicy({ timeoutMs: 0 }, 'hooks')).toThrow(/hooks\.timeoutMs/);
  });

  it('always resolves, within the allowed attempts, applied iff an allowed attempt succeeds', async () => {
    type Behaviour = 'return' | 'resolve' | 'throw' | 'reject' | 'hang';
    const behaviour = fc.constantFrom<Behaviour>('return', 'resolve', 'throw', 'reject', 'hang');
    const policyArb = fc.record({
      timeoutMs: fc.integer({ min: 1, max: 40 }),
      retries: fc.integer({ min: 0, max: 4 }),
      backoffMs: fc.integer({ min: 0, max: 15 }),
    });

    await fc.assert(
      fc.asyncProperty(fc.array(behaviour, { maxLength: 7 }), policyArb, async (plan, p) => {
        const clock = new SimulatedClock();
        // Attempts past the end of the plan fail.
        const at = (attempt: number): Behaviour => plan[attempt - 1] ?? 'throw';
        const signals: AbortSignal[] = [];
        const hook: ActionHook = (_a, { attempt, signal }) => {
          signals.push(signal);
          switch (at(attempt)) {
            case 'return':
              return attempt;
            case 'resolve':
              return Promise.resolve(attempt);
            case 'throw':
              throw new Error(`throw ${attempt}`);
            case 'reject':
              return Promise.reject(new Error(`reject ${attempt}`));
            case 'hang':
              return new Promise(() => {});
          }
        };
        const run = start(hook, p, clock);
        // One millisecond at a time, so that every timer fires at its own time.
        for (let steps = 0; run.outcome === undefined; steps++) {
          await flush();
          if (run.outcome !== undefined) break;
          if (steps > 10_000) throw new Error('runHook did not finish');
          clock.increment(1);
        }
        const outcome = run.outcome;
        if (outcome === undefined) throw new Error('unreachable: the loop waits for an outcome');

        const allowed = p.retries + 1;
        const succeeds = (b: Behaviour) => b === 'return' || b === 'resolve';
        const firstSuccess = Array.from({ length: allowed }, (_, i) => at(i + 1)).findIndex(
          succeeds,
        );
        const attempts = firstSuccess === -1 ? allowed : firstSuccess + 1;
        expect(outcome.attempts).toBeLessThanOrEqual(allowed);
        expect(outcome.attempts).toBe(attempts);
        expect(outcome.status).toBe(firstSuccess === -1 ? 'failed' : 'applied');
        expect(outcome.finishedAt).toBeGreaterThanOrEqual(outcome.startedAt);
        if (outcome.status === 'applied') expect(outcome.output).toBe(attempts);
        else if (at(attempts) === 'hang') {
          expect(outcome.error).toBe(`timed out after ${p.timeoutMs} ms`);
        } else expect(outcome.error).toBe(`${at(attempts)} ${attempts}`);

        // Time passes only while an attempt hangs or a backoff runs.
        let elapsed = 0;
        for (let attempt = 1; attempt <= attempts; attempt++) {
          if (attempt > 1) elapsed += p.backoffMs * 2 ** (attempt - 2);
          if (at(attempt) === 'hang') elapsed += p.timeoutMs;
        }
        expect(outcome.finishedAt - outcome.startedAt).toBe(elapsed);
        expect(signals.map((s) => s.aborted)).toEqual(signals.map((_, i) => at(i + 1) === 'hang'));
      }),
      { numRuns: 150 },
    );
  });
});
