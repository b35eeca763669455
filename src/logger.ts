import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * The root logger when the user passes none: pino to stdout at `info`, or at the level in
 * `WYNEOS_LOG_LEVEL` (the test suite sets `silent`).
 */
export function createDefaultLogger(): Logger {
  return pino({ name: 'wyneos', level: process.env.WYNEOS_LOG_LEVEL ?? 'info' });
}
