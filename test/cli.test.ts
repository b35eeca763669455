import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'wyneos';
import { nodeToken, operatorToken } from 'wyneos/http';
import { runDemo } from '../src/cli/demo.js';
import { createProgram } from '../src/cli/program.js';
import { runServe } from '../src/cli/serve.js';
import { resolveServeConfig } from '../src/cli/serve-config.js';
import { parseDuration } from '../src/duration.js';
import { silentLogger } from './helpers.js';

describe('cli', () => {
  it('demo: prints what happens to the fleet as it happens, then a summary', () => {
    const lines: string[] = [];
    const result = runDemo({ nodes: 20, seconds: 60, tickMs: 1000, write: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toMatch(/node-05 +online → offline +no heartbeat for 3000 ms/);
    expect(text).toMatch(/node-05 +offline → online +heartbeats resumed/);
    expect(text).toMatch(/node-09 +online → overloaded/);
    expect(text).toMatch(/action reduce-load on node-09/);
    expect(text).toMatch(/node-09 +overloaded → online/);
    expect(text).toMatch(/node-17 +offline → isolated +offline for 10 s/);
    expect(text).toMatch(/node-03 +rule min-version fails: version 1.2.0 is older than 1.4.0/);
    expect(text).toMatch(/node-11 +rule memory fails/);
    expect(lines.at(-4)).toBe('summary');
    expect(result).toMatchObject({
      ticks: 60,
      actions: { 'reduce-load': 2, isolate: 1 },
      states: { online: 19, overloaded: 0, isolated: 1, offline: 0 },
      fleetCompliance: 0.9,
    });
  });

  it('runs the demo with its flags', async () => {
    const lines: string[] = [];
    await createProgram((l) => lines.push(l)).parseAsync([
      'node',
      'wyneos',
      'demo',
      '--nodes',
      '18',
      '--seconds',
      '5',
    ]);
    expect(lines[0]).toBe(
      'wyneos demo: 18 nodes, tick 1000 ms, heartbeat timeout 3000 ms, 5 s of simulated time',
    );
  });

  it('rejects a bad flag with a message that names it', async () => {
    for (const args of [
      ['simulate', '--nodes', 'many'],
      ['demo', '--nodes', '3'],
      ['demo', '--seconds', '-1'],
      ['demo', '--tick', '1.5'],
      ['demo', '--tick', '5ms'],
      ['simulate', '--duration', 'forever'],
      ['simulate', '--tick', '0ms'],
      ['simulate', '--detector', 'gut-feeling'],
    ]) {
      const program = createProgram(() => {});
      let error: unknown;
      for (const command of [program, ...program.commands]) {
        command.exitOverride().configureOutput({ writeErr: () => {} });
      }
      try {
        await program.parseAsync(['node', 'wyneos', ...args]);
      } catch (err) {
        error = err;
      }
      expect(error, args.join(' ')).toBeInstanceOf(CommanderError);
      expect((error as CommanderError).code).toBe('commander.invalidArgument');
      expect((error as CommanderError).message).toMatch(
        /option '--[\w-]+ <\w+>' argument .* is invalid/,
      );
    }
  });

  it('reads durations as 500ms, 3s, 1.5m, 1h or whole ms, and refuses anything else', () => {
    expect(['500ms', '3s', '1.5m', '1h', '250', 40].map((d) => parseDuration(d, 'x'))).toEqual([
      500, 3000, 90_000, 3_600_000, 250, 40,
    ]);
    fc.assert(
      fc.property(fc.string(), (text) => {
        if (/^\s*\d+(\.\d+)?(ms|s|m|h)?\s*$/.test(text)) return;
        expect(() => parseDuration(text, '--tick')).toThrow(InvalidArgumentError);
      }),
    );
    expect(() => parseDuration('0.5ms', '--tick')).toThrow(/whole number of ms/);
  });

  it('token: prints the operator token and a node token derived from the secret file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-cli-'));
    await writeFile(join(dir, 'secret'), 'a secret for the token command\n');
    const key = Buffer.from('a secret for the token command');
    const lines: string[] = [];
    const run = (...args: string[]) =>
      createProgram((l) => lines.push(l)).parseAsync(['node', 'wyneos', 'token', ...args]);
    await run('--operator', '--secret-file', join(dir, 'secret'));
    await run('--node', 'node-7', '--secret-file', join(dir, 'secret'));
    expect(lines).toEqual([operatorToken(key), nodeToken(key, 'node-7')]);
    await expect(run('--secret-file', join(dir, 'secret'))).rejects.toThrow(
      /--node <id> or --operator/,
    );
    await writeFile(join(dir, 'short'), 'short');
    await expect(run('--operator', '--secret-file', join(dir, 'short'))).rejects.toThrow(
      /at least 16 bytes/,
    );
  });

  it('serve: lays flags over the config file over the defaults, durations in either', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-cli-'));
    await writeFile(
      join(dir, 'wyneos.yaml'),
      [
        'server:',
        '  port: 8080',
        '  secretFile: secret',
        '  heartbeatRate: { perSecond: 5, burst: 10 }',
        'supervisor:',
        '  tickMs: 2s',
        '  heartbeatTimeoutMs: 10s',
        '  escalation: { baseMs: 1m }',
        '  overload: { high: 0.8 }',
      ].join('\n'),
    );
    const config = await resolveServeConfig({
      config: join(dir, 'wyneos.yaml'),
      tick: 500,
      overloadTicks: 5,
      heartbeatBurst: 3,
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      secretFile: join(dir, 'secret'),
      heartbeatRate: { perSecond: 5, burst: 3 },
      supervisor: {
        tickMs: 500,
        heartbeatTimeoutMs: 10_000,
        escalation: { baseMs: 60_000 },
        overload: { high: 0.8, ticks: 5 },
      },
    });
    await writeFile(join(dir, 'bad.yaml'), 'supervisor:\n  tickMs: soon\n');
    await expect(resolveServeConfig({ config: join(dir, 'bad.yaml') })).rejects.toThrow(
      /config supervisor.tickMs: expected a duration/,
    );
    await writeFile(join(dir, 'typo.yaml'), 'server:\n  prot: 1\n');
    await expect(resolveServeConfig({ config: join(dir, 'typo.yaml') })).rejects.toThrow(
      /server.prot: is not a server setting/,
    );
  });

  it('serve: refuses to listen beyond loopback without a secret, and a bad option by name', async () => {
    await expect(runServe({ host: '0.0.0.0', port: 0 }, silentLogger)).rejects.toThrow(
      /0.0.0.0 is not a loopback address: without --secret-file/,
    );
    await expect(
      runServe({ port: 0, tick: 1000, heartbeatTimeout: 500 }, silentLogger),
    ).rejects.toThrow(/heartbeatTimeoutMs: must be greater than tickMs/);
  });

  it('serve: caps the fleet with --max-nodes and the event streams with --max-sse-clients', async () => {
    const server = await runServe({ port: 0, maxNodes: 1, maxSseClients: 1 }, silentLogger);
    try {
      const register = (id: string) =>
        fetch(`${server.url}/v1/nodes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id }),
        });
      expect((await register('n1')).status).toBe(201);
      const full = await register('n2');
      expect(full.status).toBe(503);
      expect(((await full.json()) as { error: { code: string } }).error.code).toBe(
        'WYNEOS_ERR_FLEET_FULL',
      );
      const stream = new AbortController();
      const first = await fetch(`${server.url}/v1/events`, { signal: stream.signal });
      expect(first.status).toBe(200);
      const second = await fetch(`${server.url}/v1/events`);
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).not.toBeNull();
      stream.abort();
    } finally {
      await server.shutdown();
    }
  });

  it('serve: listens, answers, and shuts down cleanly', async () => {
    const server = await runServe({ port: 0, tick: 50, heartbeatTimeout: 200 }, silentLogger);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const created = await fetch(`${server.url}/v1/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'n1' }),
    });
    expect(created.status).toBe(201);
    await server.shutdown();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    expect(() => server.supervisor.tick()).toThrow(/stopped/);
  });
});
