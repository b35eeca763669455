import type { NodeSnapshot } from '../types.js';

/**
 * The `escalation` option: how long an automatic isolation lasts, growing with each one in a
 * row, and the probation that follows a reinstatement.
 */
export interface EscalationOptions {
  /**
   * Backoff of a first automatic isolation (30 s, Envoy's base ejection time).
   * @defaultValue 30_000
   */
  readonly baseMs: number;
  /**
   * Each isolation in a row multiplies the backoff by this.
   * @defaultValue 2
   */
  readonly multiplier: number;
  /**
   * The backoff never exceeds this (300 s, Envoy's max ejection time).
   * @defaultValue 300_000
   */
  readonly maxMs: number;
  /**
   * Spread of the backoff, as a fraction either way, so reinstatements do not align.
   * @defaultValue 0.1
   */
  readonly jitter: number;
  /**
   * How long a reinstated node is on probation.
   * @defaultValue 60_000
   */
  readonly probationMs: number;
  /**
   * A node this long past its probation starts again at the base backoff (1 h).
   * @defaultValue 3_600_000
   */
  readonly resetAfterMs: number;
}

/** The `flapping` option: when a node that keeps changing state is isolated as flapping. */
export interface FlappingOptions {
  /**
   * More transitions than this within `windowMs` is flapping.
   * @defaultValue 6
   */
  readonly maxTransitions: number;
  /**
   * The window transitions are counted in.
   * @defaultValue 60_000
   */
  readonly windowMs: number;
  /**
   * A flapping node stays isolated at least this long, and until it beats again.
   * @defaultValue 120_000
   */
  readonly holdMs: number;
}

/**
 * The fields of an automatic isolation: how many in a row, and when the node may come back,
 * `base × multiplier^(n-1)`, capped, with jitter. The jitter comes from the node id and `n`,
 * not from a random source, so a run replays decision for decision.
 */
export function escalate(
  node: NodeSnapshot,
  at: number,
  options: EscalationOptions,
  holdMs = 0,
): { escalation: number; reinstateAt: number } {
  const recently =
    node.probationUntil !== undefined && at <= node.probationUntil + options.resetAfterMs;
  const escalation = recently ? node.escalation + 1 : 1;
  const backoff = Math.min(options.maxMs, options.baseMs * options.multiplier ** (escalation - 1));
  const spread = (unitHash(`${node.id}#${escalation}`) * 2 - 1) * options.jitter;
  const reinstateAt = at + Math.max(holdMs, Math.round(backoff * (1 + spread)));
  return { escalation, reinstateAt };
}

/** A number in [0, 1) from a string (FNV-1a). */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}

/**
 * Recent lifecycle transitions per node, to tell a flapping node. Only nodes that moved within
 * the window have an entry.
 */
export class FlapCounter {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly options: FlappingOptions) {}

  record(nodeId: string, at: number): void {
    const list = this.times.get(nodeId) ?? [];
    list.push(at);
    this.times.set(nodeId, list);
  }

  /** Nodes with more than `maxTransitions` transitions in the window ending at `at`. */
  flapping(at: number): Map<string, number> {
    const flapping = new Map<string, number>();
    const from = at - this.options.windowMs;
    for (const [nodeId, list] of this.times) {
      // Counted first: a list with nothing expired (most of them, every tick) is kept as it is
      // rather than copied.
      let count = 0;
      for (const t of list) if (t > from) count++;
      if (count === 0) this.times.delete(nodeId);
      else if (count < list.length) this.times.set(nodeId, recentOf(list, from));
      if (count > this.options.maxTransitions) flapping.set(nodeId, count);
    }
    return flapping;
  }

  forget(nodeId: string): void {
    this.times.delete(nodeId);
  }

  has(nodeId: string): boolean {
    return this.times.has(nodeId);
  }

  get size(): number {
    return this.times.size;
  }
}

function recentOf(times: readonly number[], from: number): number[] {
  return times.filter((t) => t > from);
}
