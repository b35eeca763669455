import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeSnapshot } from 'wyneos';
import { killAll, type Process, until, wyneos } from './processes.js';

const base = mkdtempSync(join(tmpdir(), 'wyneos-disk-'));
const servers: Process[] = [];
// A server still running keeps the tmpfs busy: it must be gone before the unmount.
afterAll(async () => {
  killAll();
  await Promise.all(servers.map((server) => server.exited()));
  spawnSync('umount', [join(base, 'tmpfs')]);
  rmSync(base, { recursive: true, force: true });
});

/** A disk that really fills: `fill()` makes the next new file in `dir` fail with ENOSPC. */
interface FullDisk {
  readonly dir: string;
  fill(): void;
  free(): void;
}

// (a) A 64 KiB tmpfs, filled up by a file of our own. Needs root with CAP_SYS_ADMIN.
function tmpfsDisk(): FullDisk | undefined {
  const dir = join(base, 'tmpfs');
  mkdirSync(dir);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  if (mounted.status !== 0) return undefined;
  const filler = join(dir, 'filler');
  return {
    dir: join(dir, 'state'),
    fill() {
      const fd = openSync(filler, 'w');
      try {
        for (const size of [4096, 1]) {
          const chunk = Buffer.alloc(size, 1);
          for (;;) writeSync(fd, chunk);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        closeSync(fd);
      }
    },
    free: () => unlinkSync(filler),
  };
}

// (b) Anywhere on Linux: the state file's temporary file made a link to /dev/full, which
// answers every write with ENOSPC (the server removes a leftover one when it starts, so this
// is laid only once it runs).
function devFullDisk(): FullDisk {
  const dir = join(base, 'devfull');
  const temporary = join(dir, 'state.json.tmp');
  return {
    dir,
    fill: () => symlinkSync('/dev/full', temporary),
    free: () => unlinkSync(temporary),
  };
}

async function serveOnAFullDisk(disk: FullDisk): Promise<void> {
  // No node changes state on its own (a long heartbeat timeout): a save of the server's own
  // could free space just after the disk was filled, and the test could not say what it sees.
  const serve = () => {
    const server = wyneos([
      ...['serve', '--port', '0', '--state-dir', disk.dir, '--tick', '100ms'],
      ...['--heartbeat-timeout', '10m', '--log-level', 'info'],
    ]);
    servers.push(server);
    return server;
  };
  let server = serve();
  const { url } = (await server.waitFor(
    (l) => l.msg === 'wyneos serve listening',
    'listening',
  )) as {
    url: string;
  };
  const post = (path: string, body: unknown = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const ready = () => fetch(`${url}/readyz`).then((r) => r.status);
  const nodes = async (at = url) =>
    ((await (await fetch(`${at}/v1/nodes`)).json()) as { nodes: NodeSnapshot[] }).nodes;
  for (const id of ['n-1', 'n-2']) expect((await post('/v1/nodes', { id })).status).toBe(201);
  await until(ready, (status) => status === 200, 20_000, 'ready');

  disk.fill();
  const first = await post('/v1/nodes/n-1/isolate', { reason: 'on a full disk' });
  expect(first.status).toBe(503);
  expect(((await first.json()) as { error: { code: string } }).error.code).toBe(
    'WYNEOS_ERR_STORAGE_DEGRADED',
  );
  const second = await post('/v1/nodes/n-2/isolate', { reason: 'on a full disk' });
  expect(second.status).toBe(503);
  expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect((await nodes()).find((n) => n.id === 'n-2')?.state).toBe('online');
  expect(await ready()).toBe(503);
  expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^wyneos_storage_degraded 1$/m);
  // Ticks go on while it waits to retry; the process stays up, with one error line.
  await until(
    () => server.lines.filter((l) => String(l.msg).startsWith('storage degraded')).length,
    (count) => count === 1,
    20_000,
    'the storage error line',
  );
  expect(server.child.exitCode).toBeNull();

  disk.free();
  await until(ready, (status) => status === 200, 60_000, 'ready after the disk has room');
  // The log line may reach us a moment after the answer.
  await server.waitFor((l) => String(l.msg).startsWith('storage recovered'), 'the recovery line');
  expect(server.lines.filter((l) => String(l.msg).startsWith('storage recovered'))).toHaveLength(1);
  expect(server.lines.filter((l) => String(l.msg).startsWith('storage degraded'))).toHaveLength(1);
  expect((await post('/v1/nodes/n-2/isolate', { reason: 'after' })).status).toBe(200);
  server.child.kill('SIGTERM');
  expect(await server.exited()).toBe(0);

  // A restart finds what the retry saved: the isolation whose own write failed, and the later one.
  server = serve();
  const restarted = (await server.waitFor(
    (l) => l.msg === 'wyneos serve listening',
    'restart',
  )) as {
    url: string;
  };
  const states = (await nodes(restarted.url)).map((n) => [n.id, n.state]);
  expect(states).toEqual([
    ['n-1', 'isolated'],
    ['n-2', 'isolated'],
  ]);
  server.child.kill('SIGTERM');
  expect(await server.exited()).toBe(0);
}

describe('storage-full', () => {
  const tmpfs = tmpfsDisk();

  it.skipIf(tmpfs === undefined)(
    'keeps `wyneos serve` up on a full tmpfs, answering /readyz 503, and recovers once it has room',
    () => serveOnAFullDisk(tmpfs as FullDisk),
    120_000,
  );

  it.skipIf(process.platform !== 'linux')(
    'keeps `wyneos serve` up when its writes meet /dev/full, and recovers once they do not',
    () => serveOnAFullDisk(devFullDisk()),
    120_000,
  );
});
