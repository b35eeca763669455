import { createServer } from 'node:net';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/cli/program.js';
import { exitCodeFor, exitCodes } from '../src/cli/usage.js';
import { wyneos } from './processes.js';

// How `wyneos` behaves as a command: help, typos, one message format and exit code for usage
// errors, one line for a port it cannot take. In process for the many cases, then the same
// through real processes for what only `main` does (exit codes, a bare `wyneos`, a busy port).

interface Outcome {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function run(args: readonly string[]): Promise<Outcome> {
  let out = '';
  let err = '';
  const program = createProgram((line) => {
    out += `${line}\n`;
  }, 'none');
  for (const command of [program, ...everyCommand(program)]) {
    command.configureOutput({
      writeOut: (text) => {
        out += text;
      },
      writeErr: (text) => {
        err += text;
      },
    });
  }
  let code: number = exitCodes.ok;
  try {
    await program.parseAsync(['node', 'wyneos', ...args]);
  } catch (error) {
    code = exitCodeFor(error, (line) => {
      err += `${line}\n`;
    });
  }
  return { code, out, err };
}

function everyCommand(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...everyCommand(sub)]);
}

/** Every command path, `['licence', 'issue']` and so on. */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

const paths = commandPaths(createProgram(() => {}, 'none'));

describe('the wyneos command line', () => {
  it('has commands to check', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['simulate', 'serve', 'licence issue']),
    );
  });

  it.each(paths.map((p) => [p.join(' '), p]))(
    '%s --help: usage on stdout, exit 0',
    async (_, path) => {
      const { code, out, err } = await run([...path, '--help']);
      expect(code).toBe(exitCodes.ok);
      expect(err).toBe('');
      expect(out).toContain(`Usage: wyneos ${path.join(' ')}`);
      // Every flag says what it does (no bare "(default …)").
      for (const line of out.split('\n').filter((l) => /^\s+-/.test(l))) {
        expect(line, line).toMatch(/^\s+-\S.*\s{2,}\S/);
        expect(line, line).not.toMatch(/\s{2,}\(default/);
      }
      // A duration flag's default reads as a duration (`1h`), never as raw milliseconds.
      for (const block of out.split(/\n(?=\s+-)/).filter((b) => b.includes('<duration>'))) {
        expect(block, block).not.toMatch(/default:? \d+\)/);
      }
    },
  );

  it.each(paths.map((p) => [p.join(' '), p]))(
    '%s with a mistyped flag: one line, exit 2',
    async (_, path) => {
      const { code, out, err } = await run([...path, '--no-such-flag']);
      expect(code).toBe(exitCodes.usage);
      expect(out).toBe('');
      // Commander checks required flags first; either way, one line in the one format.
      expect(err).toMatch(
        /^wyneos: (unknown option '--no-such-flag'|required option '[^']+' not specified)\n$/,
      );
    },
  );

  it.each([
    ['serv', 'serve'],
    ['simulat', 'simulate'],
    ['agnet', 'agent'],
    ['audti', 'audit'],
  ])('the unknown command %s suggests %s, exit 2', async (typo, meant) => {
    const { code, err } = await run([typo]);
    expect(code).toBe(exitCodes.usage);
    expect(err).toBe(`wyneos: unknown command '${typo}' (did you mean ${meant}?)\n`);
  });

  it('takes the US spelling of licence as an alias', async () => {
    const { code, out } = await run(['license', '--help']);
    expect(code).toBe(exitCodes.ok);
    expect(out).toContain('Usage: wyneos licence|license');
  });

  it('takes every duration flag as 500ms, 3s or 1m', async () => {
    const { code, out } = await run(['demo', '--nodes', '18', '--seconds', '2', '--tick', '1s']);
    expect(code).toBe(exitCodes.ok);
    expect(out).toContain('tick 1000 ms');
  });

  it('reports a port it cannot listen on in one line', () => {
    const busy = Object.assign(
      new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'),
      {
        code: 'EADDRINUSE',
        syscall: 'listen',
        address: '127.0.0.1',
        port: 8080,
      },
    );
    const lines: string[] = [];
    expect(exitCodeFor(busy, (l) => lines.push(l))).toBe(exitCodes.runtime);
    expect(lines).toEqual([
      'wyneos: cannot listen on 127.0.0.1:8080: the address is already in use (another process listens there)',
    ]);
  });

  it('lets a bug through with its stack rather than hide it', () => {
    expect(() => exitCodeFor(new TypeError('x is undefined'), () => {})).toThrow(TypeError);
  });
});

describe('the wyneos process', () => {
  const blocker = createServer();
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('bare: prints help and starts nothing', async () => {
    const proc = wyneos([]);
    expect(await proc.exited()).toBe(exitCodes.ok);
    expect(proc.lines.map((l) => l.text).join('\n')).toContain('Usage: wyneos [options] [command]');
  });

  it('a typo: exits 2 with the suggestion', async () => {
    const proc = wyneos(['serv']);
    expect(await proc.exited()).toBe(exitCodes.usage);
    expect(proc.stderr.join('')).toBe("wyneos: unknown command 'serv' (did you mean serve?)\n");
  });

  it('serve on a busy port: one line, exit 3, and nothing left running', async () => {
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const proc = wyneos(['serve', '--port', String(port), '--log-level', 'error']);
    // Exiting at all shows the tick loop was stopped: it would keep the process alive.
    expect(await proc.exited()).toBe(exitCodes.runtime);
    expect(proc.stderr.join('')).toBe(
      `wyneos: cannot listen on 127.0.0.1:${port}: the address is already in use (another process listens there)\n`,
    );
  });
});
