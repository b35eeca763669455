import { spawn } from 'node:child_process';
import { InvalidOptionsError } from '../errors.js';
import { show } from '../show.js';
import type { RemediationAction } from '../types.js';
import type { ActionHook } from './hooks.js';

/** The options of {@link commandHook}. */
export interface CommandHookOptions {
  /** The executable to run; it is run directly, never through a shell. */
  readonly command: string;
  /**
   * Its arguments.
   * @defaultValue []
   */
  readonly args?: readonly string[];
  /**
   * Kill the command if it runs longer than this many ms (real time). The hook policy's
   * `timeoutMs` aborts it as well; this is a limit of the command's own.
   * @defaultValue no limit
   */
  readonly timeoutMs?: number;
  /**
   * Variables added to the command's environment, over the supervisor's own. The `WYNEOS_*`
   * variables that describe the action are set last and cannot be overridden.
   * @defaultValue {}
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Keep at most this many bytes of stdout and of stderr; the rest is read and dropped.
   * @defaultValue 65_536
   */
  readonly maxOutputBytes?: number;
}

/** What a command hook resolves to: the command exited with 0. */
export interface CommandResult {
  readonly exitCode: 0;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The built-in hook that runs a recovery script for each action, with the action in its
 * environment: `WYNEOS_NODE_ID`, `WYNEOS_ACTION` (the type), `WYNEOS_REASON`,
 * `WYNEOS_RULE_ID` (only when a rule asked for it) and `WYNEOS_TICK`. It resolves to
 * `{ exitCode: 0, stdout, stderr }`, rejects when the command exits non-zero, is killed or
 * cannot start, and kills the command (SIGTERM) when the attempt's signal aborts.
 *
 * @example
 * const hook = commandHook({ command: '/opt/fleet/drain.sh', args: ['--graceful'] });
 */
export function commandHook(options: CommandHookOptions): ActionHook {
  const { command, args, timeoutMs, env, maxOutputBytes } = resolveCommandOptions(options);

  return (action, { signal }) =>
    new Promise<CommandResult>((resolve, reject) => {
      // `spawn`, not `execFile`: execFile can only cap output by killing the child
      // (`maxBuffer`), which would fail a chatty but successful script; here the output
      // past the cap is read and dropped.
      const child = spawn(command, args, {
        env: actionEnv(action, env),
        stdio: ['ignore', 'pipe', 'pipe'],
        signal,
        ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
      });
      const stdout = capped(maxOutputBytes);
      const stderr = capped(maxOutputBytes);
      child.stdout.on('data', stdout.push);
      child.stderr.on('data', stderr.push);

      const name = `command '${command}'`;
      let settled = false;
      const fail = (message: string, cause?: Error) => {
        if (settled) return;
        settled = true;
        reject(new Error(message, cause === undefined ? undefined : { cause }));
      };
      child.on('error', (error) => {
        // An abort also arrives here; `close` follows it and reports the kill.
        if (error.name !== 'AbortError') fail(`${name} could not start: ${error.message}`, error);
      });
      child.on('close', (code, killedBy) => {
        if (code === 0) {
          if (settled) return;
          settled = true;
          resolve({ exitCode: 0, stdout: stdout.text(), stderr: stderr.text() });
        } else if (killedBy !== null) {
          const why = signal.aborted
            ? 'it was aborted'
            : child.killed && timeoutMs !== undefined
              ? `it timed out after ${timeoutMs} ms`
              : 'it was killed';
          fail(`${name} was killed by ${killedBy}: ${why}`);
        } else {
          const line = firstLine(stderr.text());
          fail(`${name} exited with code ${code}${line === '' ? '' : `: ${line}`}`);
        }
      });
    });
}

function actionEnv(
  action: RemediationAction,
  extra: Readonly<Record<string, string>>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extra,
    WYNEOS_NODE_ID: action.nodeId,
    WYNEOS_ACTION: action.type,
    WYNEOS_REASON: action.reason,
    WYNEOS_TICK: String(action.tick),
  };
  // Never let a WYNEOS_RULE_ID inherited from the supervisor pose as this action's rule.
  if (action.ruleId === undefined) delete env.WYNEOS_RULE_ID;
  else env.WYNEOS_RULE_ID = action.ruleId;
  return env;
}

/** Collects the first `max` bytes of a stream and drops the rest. */
function capped(max: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  return {
    push: (chunk: Buffer) => {
      if (kept >= max) return;
      const part = chunk.length <= max - kept ? chunk : chunk.subarray(0, max - kept);
      chunks.push(part);
      kept += part.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

function firstLine(text: string): string {
  return (text.trim().split(/\r?\n/, 1)[0] ?? '').trim();
}

interface ResolvedCommandOptions {
  readonly command: string;
  readonly args: string[];
  readonly timeoutMs: number | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly maxOutputBytes: number;
}

function resolveCommandOptions(options: CommandHookOptions): ResolvedCommandOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError('commandHook', 'expected an object like { command, args }');
  }
  const { command, args = [], timeoutMs, env = {}, maxOutputBytes = 64 * 1024 } = options;
  if (typeof command !== 'string' || command === '') {
    throw new InvalidOptionsError('commandHook.command', 'must be a non-empty string');
  }
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
    throw new InvalidOptionsError('commandHook.args', 'must be an array of strings');
  }
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
  ) {
    throw new InvalidOptionsError(
      'commandHook.timeoutMs',
      `must be a positive integer, got ${show(timeoutMs)}`,
    );
  }
  if (
    typeof env !== 'object' ||
    env === null ||
    Array.isArray(env) ||
    !Object.values(env).every((value) => typeof value === 'string')
  ) {
    throw new InvalidOptionsError('commandHook.env', 'must be an object of string values');
  }
  if (
    typeof maxOutputBytes !== 'number' ||
    !Number.isSafeInteger(maxOutputBytes) ||
    maxOutputBytes < 0
  ) {
    throw new InvalidOptionsError(
      'commandHook.maxOutputBytes',
      `must be a non-negative integer, got ${show(maxOutputBytes)}`,
    );
  }
  return { command, args: [...args], timeoutMs, env, maxOutputBytes };
}
