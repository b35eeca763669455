import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeSnapshot, NodeTransition } from 'wyneos';
import { nodeToken, operatorToken } from 'wyneos/http';
import { killAll, until, wyneos } from './processes.js';

// Real processes on 127.0.0.1: `wyneos serve` and three `wyneos agent`s, run from the sources
// with tsx. Real time cannot be avoided across processes: short ticks and timeouts keep it
// brief (about 6 s on an idle machine), and every wait polls against a deadline generous
// enough for a machine busy with the rest of the suite.

afterAll(killAll);

describe('e2e', () => {
  it('supervises agents over HTTP: the overloaded one is told to reduce load, a killed one goes offline and is isolated, SIGTERM stops cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-e2e-'));
    const secret = 'e2e secret, 32 bytes or so, fine';
    await writeFile(join(dir, 'secret'), secret);
    // Loads from files, not from this host, whose own load may be anything.
    await writeFile(join(dir, 'hot-load'), '0.99\n');
    await writeFile(join(dir, 'calm-load'), '0.2\n');
    await writeFile(
      join(dir, 'mark.mjs'),
      "import { writeFileSync } from 'node:fs';\nwriteFileSync(process.argv[2], process.env.WYNEOS_ACTION);\n",
    );
    const serve = wyneos([
      'serve',
      ...['--port', '0', '--secret-file', join(dir, 'secret')],
      ...['--tick', '100ms', '--heartbeat-timeout', '1s', '--overload-ticks', '2'],
    ]);
    const { url } = (await serve.waitFor(
      (l) => l.msg === 'wyneos serve listening',
      'listening',
    )) as {
      url: string;
    };
    const key = Buffer.from(secret);
    const agent = (id: string, ...extra: string[]) => {
      const tokenFile = join(dir, `${id}.token`);
      return writeFile(tokenFile, nodeToken(key, id)).then(() =>
        wyneos([
          'agent',
          '--server',
          url,
          '--id',
          id,
          '--token-file',
          tokenFile,
          '--interval',
          '100ms',
          ...extra,
        ]),
      );
    };
    const marked = join(dir, 'marked');
    const [doomed, steady, hot] = await Promise.all([
      agent('doomed', '--load-file', join(dir, 'calm-load')),
      agent('steady', '--load-file', join(dir, 'calm-load')),
      agent(
        'hot',
        '--load-file',
        join(dir, 'hot-load'),
        '--on-reduce-load',
        `${process.execPath} ${join(dir, 'mark.mjs')} ${marked}`,
      ),
    ]);
    const operator = { authorization: `Bearer ${operatorToken(key)}` };
    const get = async <T>(path: string) =>
      (await (await fetch(`${url}${path}`, { headers: operator })).json()) as T;
    const nodes = () => get<{ nodes?: NodeSnapshot[] }>('/v1/nodes');
    const node = (id: string) =>
      get<{ node?: NodeSnapshot; transitions: NodeTransition[] }>(`/v1/nodes/${id}`);

    const fleet = await until(
      nodes,
      (body) => body.nodes?.length === 3 && body.nodes.every((n) => n.seq !== undefined),
    );
    expect(fleet.nodes?.map((n) => n.id).sort()).toEqual(['doomed', 'hot', 'steady']);

    // Overload reaches the node in a heartbeat answer, and its command runs.
    await hot.waitFor((l) => l.msg === 'action' && l.action === 'reduce-load', 'reduce-load');
    await hot.waitFor((l) => l.msg === 'command ran', 'command ran');
    expect(await readFile(marked, 'utf8')).toBe('reduce-load');
    expect(hot.lines.find((l) => l.msg === 'state' && l.state === 'overloaded')).toBeDefined();

    // A killed agent goes offline; the operator isolates it over HTTP.
    doomed.child.kill('SIGKILL');
    await until(
      () => node('doomed'),
      (body) => body.node?.state === 'offline',
    );
    const isolated = await fetch(`${url}/v1/nodes/doomed/isolate`, {
      method: 'POST',
      headers: { ...operator, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'offline: its agent was killed' }),
    });
    expect(isolated.status).toBe(200);
    const view = await node('doomed');
    expect(view.node).toMatchObject({ state: 'isolated', reason: 'offline: its agent was killed' });
    expect(view.transitions.map((t) => t.to).slice(-2)).toEqual(['offline', 'isolated']);
    expect((await node('steady')).node?.state).toBe('online');

    // SIGTERM: the server stops cleanly; the agents back off until it returns, then stop on SIGTERM.
    serve.child.kill('SIGTERM');
    expect(await serve.exited()).toBe(0);
    expect(serve.lines.some((l) => l.msg === 'stopped')).toBe(true);
    await steady.waitFor((l) => l.msg === 'server unreachable', 'server unreachable');
    for (const proc of [steady, hot]) proc.child.kill('SIGTERM');
    expect(await Promise.all([steady.exited(), hot.exited()])).toEqual([0, 0]);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);
});
