/**
 * `npm run bench -- --quick`: every scenario at a small size, each task run twice, so CI keeps
 * the benchmarks working in seconds. Its figures mean nothing and no test reads them.
 */
export const quick = process.argv.includes('--quick');

/** A size or a duration for a full run, and its stand-in for a quick one. */
export function scaled<T>(full: T, small: T): T {
  return quick ? small : full;
}
