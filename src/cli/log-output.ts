import { type Logger, pino } from 'pino';

/** How much log output may wait for a reader that is slow or stopped, in bytes. */
export const logBacklogBytes = 16 * 1024 * 1024;

/**
 * The logger of a long-running command (`serve`, `agent`, `relay`): JSON lines to stdout that
 * never block the process nor hold its exit. pino's default output keeps what a busy reader has
 * not taken, writes it synchronously when the process exits, and retries that write without end:
 * a `serve` whose stdout reader had gone (a closed pipe) or stopped reading never exited after
 * SIGTERM. Here a line that cannot be written now waits for the next write, up to
 * `logBacklogBytes` (lines past it are dropped), and whatever still waits at exit is dropped.
 */
export function commandLogger(level: string): Logger {
  const output = pino.destination({
    dest: 1,
    sync: true,
    maxLength: logBacklogBytes,
    retryEAGAIN: () => false,
  });
  // A full pipe (EAGAIN: kept for the next write) or a closed one (EPIPE: nobody reads).
  output.on('error', () => {});
  return pino({ name: 'wyneos', level }, output);
}
