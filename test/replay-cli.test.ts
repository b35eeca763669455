import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTrace } from '../src/exports/testing.js';
import { killAll, type Process, wyneos } from './processes.js';

afterEach(killAll);

const strictPolicy = `version: strict
rules:
  - id: cool-nodes
    expression: node.load < 0.6
    enforcement: isolate
`;

function text(proc: Process): string {
  return proc.lines
    .map((line) => (line.text as string | undefined) ?? JSON.stringify(line))
    .join('\n');
}

describe('wyneos replay (real processes)', () => {
  it('replays a simulated trace byte for byte the same twice, and --fail-if exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-replay-cli-'));
    const trace = join(dir, 'trace');
    await writeFile(join(dir, 'strict.yaml'), strictPolicy);
    const sim = wyneos([
      'simulate',
      ...['--nodes', '30', '--duration', '5m', '--faults', 'overload=0.2', '--record', trace],
    ]);
    expect(await sim.exited()).toBe(0);
    expect(readTrace(trace).header.tickMs).toBe(1000);

    const args = ['replay', '--trace', trace, '--policy', join(dir, 'strict.yaml')];
    const [a, b] = [
      wyneos([...args, '--json', join(dir, 'a.json')]),
      wyneos([...args, '--json', join(dir, 'b.json'), '--fail-if', 'isolations > 0']),
    ];
    expect(await a.exited()).toBe(0);
    expect(await b.exited()).toBe(1);
    const [jsonA, jsonB] = await Promise.all(
      ['a.json', 'b.json'].map((f) => readFile(join(dir, f), 'utf8')),
    );
    expect(jsonA).toBe(jsonB);
    const out = text(a);
    expect(out).toContain('policy strict against baseline no rules');
    expect(out).toMatch(/isolate \(applied\): rule cool-nodes failed/);
    expect(text(b)).toContain("--fail-if 'isolations > 0' holds: exit code 1");
    // The text up to the file line is the same too.
    expect(text(b).split('result written')[0]).toBe(out.split('result written')[0]);
  }, 60_000);

  it('refuses a malformed --fail-if with its code and exit code 2, before replaying', async () => {
    const proc = wyneos([
      'replay',
      ...['--trace', '/nonexistent', '--policy', 'examples/policy.yaml'],
      ...['--fail-if', 'isolations >> 0'],
    ]);
    expect(await proc.exited()).toBe(2);
    expect(proc.stderr.join('')).toMatch(/Invalid condition 'isolations >> 0' at column 1/);
  }, 30_000);

  it('serve --record writes what it accepted over HTTP to the trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-record-cli-'));
    const trace = join(dir, 'trace');
    const serve = wyneos([
      'serve',
      '--port',
      '0',
      '--record',
      trace,
      '--record-max-bytes',
      '100000',
    ]);
    const { url } = (await serve.waitFor(
      (l) => l.msg === 'wyneos serve listening',
      'listening',
    )) as {
      url: string;
    };
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/v1/nodes', { id: 'web-1', labels: { tier: 'web' } })).status).toBe(201);
    expect((await post('/v1/heartbeats', { nodeId: 'web-1', seq: 1, load: 0.4 })).status).toBe(200);
    expect((await post('/v1/heartbeats', { nodeId: 'nobody', seq: 1, load: 0.4 })).status).toBe(
      404,
    );
    serve.child.kill('SIGTERM');
    expect(await serve.exited()).toBe(0);
    const entries = [...readTrace(trace).entries()];
    expect(entries.map(([, kind, value]) => [kind, value])).toEqual([
      ['r', { id: 'web-1', labels: { tier: 'web' } }],
      ['h', { nodeId: 'web-1', seq: 1, epoch: 0, load: 0.4 }],
    ]);
  }, 60_000);
});

describe('the policy-CI walk-through in docs/replay.md', () => {
  it('runs as written and prints what the page shows', async () => {
    const page = await readFile('docs/replay.md', 'utf8');
    const walk = page.slice(page.indexOf('## Walk-through'));
    const commands = [...walk.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
      (m[1] as string).replace(/\\\n\s*/g, '').trim(),
    );
    const printed = /It prints \(exit code 1\):\n\n\s*```\n([\s\S]*?)\n\s*```/.exec(walk)?.[1];
    expect(commands).toHaveLength(2);
    expect(printed).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-walk-'));
    // The page's `trace` directory, in a temporary directory rather than the checkout.
    const argsOf = (command: string) =>
      (command.match(/'[^']*'|\S+/g) as string[])
        .slice(1)
        .map((arg) => (arg === 'trace' ? join(dir, 'trace') : arg.replace(/^'(.*)'$/, '$1')));
    const sim = wyneos(argsOf(commands[0] as string));
    expect(await sim.exited()).toBe(0);
    const replay = wyneos(argsOf(commands[1] as string));
    expect(await replay.exited()).toBe(1);
    const expected = (printed as string)
      .split('\n')
      .map((line) => line.replace(/^ {3}/, ''))
      .join('\n');
    expect(text(replay)).toBe(expected);
  }, 120_000);
});
