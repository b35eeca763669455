import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { stopOnSignals } from '../src/cli/shutdown.js';
import { captureLogger } from './helpers.js';
import { freePort, killAll, until, wyneos } from './processes.js';

function signals() {
  const handlers = new Map<string, () => void>();
  const exits: number[] = [];
  return {
    handlers,
    exits,
    io: {
      exit: (code: number) => exits.push(code),
      deadlineMs: 15_000,
      on: (signal: NodeJS.Signals, handler: () => void) => handlers.set(signal, handler),
    },
  };
}

describe('shutdown on a signal', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('exits 0 once the server stopped', async () => {
    const s = signals();
    stopOnSignals(async () => {}, captureLogger().logger, s.io);
    s.handlers.get('SIGTERM')?.();
    await vi.waitFor(() => expect(s.exits).toEqual([0]));
  });

  it('exits 1 with an error line when stopping outlives the deadline', () => {
    vi.useFakeTimers();
    const s = signals();
    const { logger, lines } = captureLogger();
    stopOnSignals(() => new Promise(() => {}), logger, s.io);
    s.handlers.get('SIGINT')?.();
    vi.advanceTimersByTime(14_999);
    expect(s.exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.exits).toEqual([1]);
    expect(lines.at(-1)).toMatchObject({ msg: 'shutdown did not finish in time: exiting anyway' });
  });

  it('ends at once on a second signal', () => {
    const s = signals();
    stopOnSignals(() => new Promise(() => {}), captureLogger().logger, s.io);
    s.handlers.get('SIGTERM')?.();
    s.handlers.get('SIGINT')?.();
    expect(s.exits).toEqual([1]);
  });
});

// pino's default output wrote what was still in flight when the process exited, and retried that
// write without end: a `serve` whose stdout reader had gone (EPIPE) never exited after SIGTERM
// (about half the time, whenever its last line's write was still in flight at the exit).
describe('a signalled serve whose stdout reader has gone', () => {
  afterAll(killAll);

  it('exits, every time', async () => {
    for (let round = 0; round < 3; round++) {
      const port = await freePort();
      const serve = wyneos(['serve', '--port', String(port)]);
      await serve.waitFor((line) => line.msg === 'wyneos serve listening', 'listening');
      serve.child.stdout?.destroy();
      serve.child.kill('SIGTERM');
      const code = await until(
        () => serve.child.exitCode,
        (exitCode) => exitCode !== null,
        20_000,
        'serve to exit',
      );
      expect(code).toBe(0);
    }
  });
});
