import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, until } from '../processes.js';

// A real nats-server with JetStream for the NATS tests: its own store directory and loopback
// port, started and stopped by each test file. CI installs it (.ci/install-nats-server); a
// machine without it skips these tests and says so, unless WYNEOS_REQUIRE_NATS is set.

export const natsServerPath = (() => {
  try {
    return (
      execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
})();

if (natsServerPath === undefined && process.env.WYNEOS_REQUIRE_NATS) {
  throw new Error('nats-server is not installed: run .ci/install-nats-server');
}
if (natsServerPath === undefined) {
  console.warn(
    'nats-server is not installed: the NATS tests are skipped (.ci/install-nats-server installs it)',
  );
}

export interface NatsServer {
  readonly url: string;
  /**
   * Stops the server (SIGTERM: JetStream syncs what it acknowledged) and starts it again, once
   * `whileDown` (if given) has settled.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

async function listening(port: number, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}`);
    await delay(50);
  }
}

/**
 * `config`: configuration files by name, `server.conf` the one the server reads (it may
 * include the others). Its own port, address and store directory win over the files'.
 */
export async function startNatsServer(
  config?: Readonly<Record<string, string>>,
): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-nats-'));
  const port = await freePort();
  const file = join(dir, 'server.conf');
  const store = join(dir, 'store');
  for (const [name, text] of Object.entries(config ?? {})) {
    // A store directory in the file and on the command line is refused: the file's is replaced.
    const local = text.replace(/^(\s*store_dir:).*$/m, `$1 ${JSON.stringify(store)}`);
    writeFileSync(join(dir, name), local, { mode: 0o600 });
  }
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(
      natsServerPath as string,
      [
        ...(config === undefined ? ['-sd', store] : ['-c', file]),
        ...['-js', '-p', String(port), '-a', '127.0.0.1'],
      ],
      { stdio: 'ignore' },
    );
    await listening(port);
  };
  const halt = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    async restart(whileDown) {
      await halt();
      try {
        await whileDown?.();
      } finally {
        await launch();
      }
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds of what it returns, for at most `ms`. */
export function eventually<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  ms = 15_000,
): Promise<T> {
  return until(read, done, ms);
}
