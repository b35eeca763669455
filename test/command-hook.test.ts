import { describe, expect, it } from 'vitest';
import type { RemediationAction } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import { commandHook } from '../src/healing/command-hook.js';
import { type ActionHook, type HookContext, runHook } from '../src/healing/hooks.js';

const action: RemediationAction = {
  type: 'reduce-load',
  nodeId: 'edge-7',
  reason: 'load 0.97 for 3 ticks',
  tick: 12,
  at: 12_000,
  ruleId: 'max-load',
};

/** Runs a small Node script as the command, so the tests need nothing but Node. */
function nodeScript(script: string, options: { env?: Record<string, string> } = {}) {
  return { command: process.execPath, args: ['-e', script], ...options };
}

function context(signal = new AbortController().signal): HookContext {
  return { signal, attempt: 1 };
}

const printEnv = `
  const pick = (k) => process.env[k] ?? null;
  process.stdout.write(JSON.stringify({
    nodeId: pick('WYNEOS_NODE_ID'), action: pick('WYNEOS_ACTION'), reason: pick('WYNEOS_REASON'),
    ruleId: pick('WYNEOS_RULE_ID'), tick: pick('WYNEOS_TICK'), extra: pick('EXTRA'),
  }));
  process.exit(Number(process.env.EXIT_CODE ?? 0));
`;

const forever = 'setInterval(() => {}, 1000);';

describe('command-hook', () => {
  it('runs the command with the node id and the action in its environment', async () => {
    const hook = commandHook(nodeScript(printEnv, { env: { EXTRA: 'yes', EXIT_CODE: '0' } }));
    const result = (await hook(action, context())) as { exitCode: number; stdout: string };
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      nodeId: 'edge-7',
      action: 'reduce-load',
      reason: 'load 0.97 for 3 ticks',
      ruleId: 'max-load',
      tick: '12',
      extra: 'yes',
    });
  });

  it('leaves WYNEOS_RULE_ID unset when no rule asked for the action, whatever env says', async () => {
    const hook = commandHook(nodeScript(printEnv, { env: { WYNEOS_RULE_ID: 'spoofed' } }));
    const { ruleId: _, ...noRule } = action;
    const result = (await hook(noRule, context())) as { stdout: string };
    expect(JSON.parse(result.stdout)).toMatchObject({ nodeId: 'edge-7', ruleId: null });
  });

  it('rejects with the exit code and the first line of stderr when the command fails', async () => {
    const script = `process.stderr.write('disk full on /var\\nsecond line\\n'); ${printEnv}`;
    const hook = commandHook(nodeScript(script, { env: { EXIT_CODE: '3' } }));
    await expect(hook(action, context())).rejects.toThrow(
      `command '${process.execPath}' exited with code 3: disk full on /var`,
    );
  });

  it('rejects when the command cannot start', async () => {
    const hook = commandHook({ command: '/nonexistent/wyneos-recovery-script' });
    await expect(hook(action, context())).rejects.toThrow(/could not start: .*ENOENT/);
  });

  it('kills a command that runs too long when the signal aborts', async () => {
    const controller = new AbortController();
    const hook = commandHook(nodeScript(forever));
    const running = hook(action, context(controller.signal));
    controller.abort();
    await expect(running).rejects.toThrow(/was killed by SIGTERM: it was aborted/);
  });

  it('kills the command when runHook times the attempt out on the simulated clock', async () => {
    const clock = new SimulatedClock();
    const runs: Array<Promise<unknown>> = [];
    const command = commandHook(nodeScript(forever));
    const hook: ActionHook = (a, ctx) => {
      const run = Promise.resolve(command(a, ctx));
      runs.push(run);
      return run;
    };
    const outcome = runHook(hook, action, { timeoutMs: 5000, retries: 0, backoffMs: 0 }, clock);
    clock.increment(5000);
    await expect(outcome).resolves.toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'timed out after 5000 ms',
    });
    expect(runs).toHaveLength(1);
    await expect(runs[0]).rejects.toThrow(/killed by SIGTERM: it was aborted/);
  });

  it('kills a command that outlives its own timeoutMs', async () => {
    const hook = commandHook({ ...nodeScript(forever), timeoutMs: 50 });
    await expect(hook(action, context())).rejects.toThrow(/it timed out after 50 ms/);
  });

  it('keeps at most maxOutputBytes of stdout and of stderr', async () => {
    const script =
      "process.stdout.write('a'.repeat(100000)); process.stderr.write('b'.repeat(100000));";
    const hook = commandHook({ ...nodeScript(script), maxOutputBytes: 10 });
    await expect(hook(action, context())).resolves.toEqual({
      exitCode: 0,
      stdout: 'a'.repeat(10),
      stderr: 'b'.repeat(10),
    });
  });

  it('rejects invalid options with an error that names the option', () => {
    const cases: Array<[unknown, string]> = [
      [{ command: '' }, 'commandHook.command'],
      [{ command: 42 }, 'commandHook.command'],
      [{ command: 'x', args: 'a b' }, 'commandHook.args'],
      [{ command: 'x', args: ['a', 1] }, 'commandHook.args'],
      [{ command: 'x', timeoutMs: 0 }, 'commandHook.timeoutMs'],
      [{ command: 'x', env: { A: 1 } }, 'commandHook.env'],
      [{ command: 'x', maxOutputBytes: -1 }, 'commandHook.maxOutputBytes'],
    ];
    for (const [options, path] of cases) {
      expect(() => commandHook(options as Parameters<typeof commandHook>[0])).toThrow(
        expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_OPTIONS', path }),
      );
    }
  });
});
