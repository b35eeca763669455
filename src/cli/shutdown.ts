import type { Logger } from '../logger.js';

/** How long a signalled `wyneos serve` may take to stop before it exits anyway. */
export const shutdownDeadlineMs = 15_000;

/**
 * Stops the server on SIGTERM or SIGINT, then exits: 0 once it stopped, 1 if stopping failed or
 * outlived the deadline. The deadline is there because a server with a huge fleet, or a client
 * holding a connection open, could otherwise keep a signalled process alive indefinitely; every
 * write it makes is atomic, so exiting mid-shutdown loses nothing acknowledged.
 */
export function stopOnSignals(
  shutdown: () => Promise<void>,
  log: Logger,
  io: {
    readonly exit: (code: number) => void;
    readonly deadlineMs?: number;
    readonly on?: (signal: NodeJS.Signals, handler: () => void) => void;
  } = { exit: (code) => process.exit(code) },
): void {
  const { exit, deadlineMs = shutdownDeadlineMs, on = (s, h) => process.once(s, h) } = io;
  let signalled = false;
  const stop = () => {
    // A second signal during shutdown is not waited on: it ends the process at once.
    if (signalled) return exit(1);
    signalled = true;
    const deadline = setTimeout(() => {
      log.error({ deadlineMs }, 'shutdown did not finish in time: exiting anyway');
      exit(1);
    }, deadlineMs);
    deadline.unref();
    shutdown().then(
      () => {
        clearTimeout(deadline);
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        log.error({ error: (error as Error).message }, 'shutdown failed');
        exit(1);
      },
    );
  };
  on('SIGTERM', stop);
  on('SIGINT', stop);
}
