import { afterAll, describe, expect, it } from 'vitest';
import type { NodeSnapshot } from 'wyneos';
import { type FullDisk, tinyDisk } from './full-disk.js';
import { killAll, type Process, until, wyneos } from './processes.js';

const servers: Process[] = [];
const disk = tinyDisk();
// A server still running keeps the tmpfs busy: it must be gone before the unmount.
afterAll(async () => {
  killAll();
  await Promise.all(servers.map((server) => server.exited()));
  disk?.remove();
});

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
  // Appends go on filling the last page a file already has: commands are sent, isolating and
  // reinstating n-1 in turn, until one meets the full disk. That one is applied in memory (its
  // answer says so) and saved by the retry.
  let last: 'isolate' | 'reinstate' = 'reinstate';
  let first: Response | undefined;
  for (let i = 0; i < 500 && first === undefined; i++) {
    last = last === 'isolate' ? 'reinstate' : 'isolate';
    const answer = await post(`/v1/nodes/n-1/${last}`, { reason: 'on a full disk' });
    if (answer.status !== 200) first = answer;
  }
  if (first === undefined) throw new Error('500 commands fitted on a full disk');
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
    ['n-1', last === 'isolate' ? 'isolated' : 'online'],
    ['n-2', 'isolated'],
  ]);
  server.child.kill('SIGTERM');
  expect(await server.exited()).toBe(0);
}

describe('storage-full', () => {
  it.skipIf(disk === undefined)(
    'keeps `wyneos serve` up on a full tmpfs, answering /readyz 503, and recovers once it has room',
    () => serveOnAFullDisk(disk as FullDisk),
    120_000,
  );
});
