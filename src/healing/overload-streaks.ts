/**
 * Consecutive ticks each node has spent past the mark that matters for it: at or over the
 * high-water mark while online, at or under the low-water mark while overloaded. Only nodes in
 * the middle of a streak have an entry, and a node below its mark costs nothing. It is the healing actor's memory from one tick to the next.
 */
export class OverloadStreaks {
  private readonly streaks = new Map<
    string,
    { ticks: number; tick: number; mark: 'high' | 'low' }
  >();

  /**
   * Counts this tick for a node: past `mark` or not. Returns the streak, 0 when broken. A
   * streak counted towards the other mark starts again: a node isolated and reinstated between
   * two ticks must not carry its recovery count into a new overload (found by the model test).
   */
  count(nodeId: string, tick: number, mark: 'high' | 'low', pastMark: boolean): number {
    // A broken streak is not deleted here: it keeps the stamp of an earlier tick, so
    // `forgetAllBut(tick)`, which ends every tick's plan, drops it. Deleting it here cost a map
    // operation for every node below its mark, every tick: most of the fleet.
    if (!pastMark) return 0;
    const streak = this.streaks.get(nodeId);
    if (streak === undefined || streak.mark !== mark) {
      this.streaks.set(nodeId, { ticks: 1, tick, mark });
      return 1;
    }
    streak.ticks++;
    streak.tick = tick;
    return streak.ticks;
  }

  reset(nodeId: string): void {
    if (this.streaks.size > 0) this.streaks.delete(nodeId);
  }

  has(nodeId: string): boolean {
    return this.streaks.has(nodeId);
  }

  get size(): number {
    return this.streaks.size;
  }

  forget(nodeId: string): void {
    this.reset(nodeId);
  }

  /**
   * Drops streaks not counted past their mark on `tick` (broken, deregistered, or no longer
   * counting). Called once at the end of every tick's plan, after every `count` of the tick.
   */
  forgetAllBut(tick: number): void {
    for (const [nodeId, streak] of this.streaks) {
      if (streak.tick !== tick) this.streaks.delete(nodeId);
    }
  }
}
