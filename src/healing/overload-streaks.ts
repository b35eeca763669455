/**
 * Consecutive ticks each node has spent at or over the high-water mark, or at or under the
 * low-water mark. Only nodes in the middle of a streak have an entry, so a quiet fleet keeps
 * this map empty. It is the healing actor's memory from one tick to the next.
 */
export class OverloadStreaks {
  private readonly streaks = new Map<string, { high: number; low: number; tick: number }>();

  /** Counts this tick's load for a node and returns its streaks. */
  record(nodeId: string, tick: number, atOrOverHigh: boolean, atOrUnderLow: boolean) {
    let streak = this.streaks.get(nodeId);
    if (!atOrOverHigh && !atOrUnderLow) {
      if (streak !== undefined) this.streaks.delete(nodeId);
      return { high: 0, low: 0 };
    }
    if (streak === undefined) {
      streak = { high: 0, low: 0, tick };
      this.streaks.set(nodeId, streak);
    }
    streak.high = atOrOverHigh ? streak.high + 1 : 0;
    streak.low = atOrUnderLow ? streak.low + 1 : 0;
    streak.tick = tick;
    return streak;
  }

  reset(nodeId: string): void {
    this.streaks.delete(nodeId);
  }

  /** Drops streaks of nodes not seen on `tick` (deregistered, or no longer counting). */
  forgetAllBut(tick: number): void {
    for (const [nodeId, streak] of this.streaks) {
      if (streak.tick !== tick) this.streaks.delete(nodeId);
    }
  }

  get size(): number {
    return this.streaks.size;
  }
}
