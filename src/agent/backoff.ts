/**
 * The wait before retry number `attempt` (1 for the first): exponential from `baseMs`, capped
 * at `maxMs`, with "equal jitter" (a random point in the upper half), so a fleet whose server
 * went away does not come back at the same instant, yet no agent retries at once.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
