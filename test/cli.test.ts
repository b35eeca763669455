import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/cli/demo.js';
import { createProgram } from '../src/cli/program.js';

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
      ['--nodes', 'many'],
      ['demo', '--nodes', '3'],
      ['demo', '--seconds', '-1'],
      ['demo', '--tick', '1.5'],
      ['--duration', 'forever'],
      ['--tick', '0ms'],
      ['--detector', 'gut-feeling'],
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
        /option '--\w+ <\w+>' argument .* is invalid/,
      );
    }
  });
});
