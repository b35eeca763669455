import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// Real `wyneos` processes for end-to-end tests, run from the sources with tsx. Real time cannot
// be avoided across processes: every wait polls against a deadline generous enough for a
// machine busy with the rest of the suite.

const root = fileURLToPath(new URL('..', import.meta.url));
const running: Process[] = [];

export interface Process {
  readonly child: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  /** What it wrote to stderr (also passed on to the test's own stderr). */
  readonly stderr: string[];
  waitFor(
    match: (line: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
  exited(): Promise<number | null>;
}

/** Starts `wyneos <args>`; `env` adds to (or, with undefined, removes from) this process's environment. */
export function wyneos(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Process {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(String(chunk));
    process.stderr.write(chunk);
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text));
    } catch {
      lines.push({ text });
    }
    for (const wake of waiters) wake();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const proc: Process = {
    child,
    lines,
    stderr,
    waitFor(match, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find(match);
          if (line === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(line);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line ${what} in ${JSON.stringify(lines.slice(-5))}`));
        }, 20_000);
        waiters.add(check);
        check();
      });
    },
    exited: () => exit,
  };
  running.push(proc);
  return proc;
}

/** Polls `read` until `done` holds of what it returns, for at most `ms`; `what` names it in the error. */
export async function until<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  ms = 20_000,
  what = 'a condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what}: ${JSON.stringify(value)?.slice(0, 500)}`);
    }
    await delay(25);
  }
}

/** Kills every process a test started and left running. */
export function killAll(): void {
  for (const proc of running) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
}

/** A loopback port free now (the OS picks it), for a server a test starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
