import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, StateLockedError } from 'wyneos';
import { captureLogger, silentLogger } from './helpers.js';
import { killAll, until, wyneos } from './processes.js';

afterAll(killAll);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-lock-'));
  dirs.push(dir);
  return dir;
}

function writeLock(dir: string, holder: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'wyneos.lock');
  writeFileSync(file, JSON.stringify(holder));
  return file;
}

function refusal(run: () => unknown): StateLockedError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StateLockedError);
    return error as StateLockedError;
  }
  throw new Error('expected StateLockedError');
}

describe('state-lock', () => {
  it('refuses a second supervisor on the same state directory, naming the holder, until the first stops', async () => {
    const dir = stateDir();
    const first = createSupervisor({ stateDir: dir, logger: silentLogger });
    first.register({ id: 'n-1' });
    const error = refusal(() => createSupervisor({ stateDir: dir, logger: silentLogger }));
    expect(error.code).toBe('WYNEOS_ERR_STATE_LOCKED');
    expect(error.holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(error.message).toContain(`pid ${process.pid} on ${hostname()}`);
    await first.stop();
    expect(existsSync(join(dir, 'wyneos.lock'))).toBe(false);
    const second = createSupervisor({ stateDir: dir, logger: silentLogger });
    expect(second.node('n-1')).toBeDefined();
    await second.stop();
  });

  it('takes over a stale lock whose holder on this host is gone, and says so', async () => {
    const dir = stateDir();
    // A pid that was just in use and is not any more.
    const gone = spawnSync(process.execPath, ['-e', '']).pid as number;
    writeLock(dir, { pid: gone, host: hostname(), startedAt: 'earlier', token: 'theirs' });
    const { logger, lines } = captureLogger('warn');
    const sup = createSupervisor({ stateDir: dir, logger });
    expect(lines.map((l) => l.msg)).toContainEqual(
      expect.stringMatching(new RegExp(`Took over the lock .*pid ${gone} .*no longer running`)),
    );
    const lock = JSON.parse(readFileSync(join(dir, 'wyneos.lock'), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    await sup.stop();
  });

  it('takes over a lock naming its own pid that this process does not hold (a restarted container)', async () => {
    const dir = stateDir();
    writeLock(dir, { pid: process.pid, host: hostname(), startedAt: 'earlier', token: 'old' });
    const sup = createSupervisor({ stateDir: dir, logger: silentLogger });
    await sup.stop();
  });

  it('never takes over a lock held on another host, nor one it cannot read, and changes nothing', () => {
    const dir = stateDir();
    const file = writeLock(dir, { pid: 1, host: 'elsewhere', startedAt: 'then', token: 'x' });
    const remote = refusal(() => createSupervisor({ stateDir: dir, logger: silentLogger }));
    expect(remote.message).toContain('pid 1 on elsewhere');
    expect(remote.message).toContain(`remove ${file}`);
    writeFileSync(file, '');
    const unreadable = refusal(() => createSupervisor({ stateDir: dir, logger: silentLogger }));
    expect(unreadable.holder).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(existsSync(join(dir, 'audit.jsonl'))).toBe(false);
  });

  it('makes a second `wyneos serve` on the same --state-dir exit with code 2 and one line', async () => {
    const dir = stateDir();
    const serve = () =>
      wyneos([
        'serve',
        '--port',
        '0',
        '--state-dir',
        dir,
        '--tick',
        '100ms',
        '--log-level',
        'info',
      ]);
    const first = serve();
    await first.waitFor((line) => line.msg === 'wyneos serve listening', 'listening');
    const second = serve();
    expect(await second.exited()).toBe(2);
    const message = await until(
      () => second.stderr.join(''),
      (text) => text.endsWith('\n'),
      20_000,
      'the refusal on stderr',
    );
    expect(message.trim().split('\n')).toHaveLength(1);
    expect(message).toMatch(
      new RegExp(`^wyneos: State directory locked: .* pid ${first.child.pid} on ${hostname()}`),
    );
    expect(first.child.exitCode).toBeNull();
    first.child.kill('SIGTERM');
    expect(await first.exited()).toBe(0);
    expect(existsSync(join(dir, 'wyneos.lock'))).toBe(false);
  }, 60_000);
});
