import type { KV } from '@nats-io/kv';
import type { PeerCounts } from '../supervisor/index.js';
import type { ShardCounts } from './kv-state-store.js';
import { keys } from './subjects.js';

/**
 * The rest of the fleet, for the safety limits: every shard's counts as its holder publishes
 * them in KV (`counts.<shard>`), read once per tick for the shards held elsewhere and summed.
 * Polled rather than watched: a multi-key watch needs nats-server 2.10, and a poll recovers by
 * itself when the server restarts. A tick uses the counts of the previous poll.
 */
export class FleetCounts {
  private readonly latest = new Map<number, ShardCounts>();
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly kv: KV,
    private readonly shards: number,
    private readonly held: () => readonly number[],
    private readonly windowMs: number,
  ) {}

  /** The sum over the shards this supervisor does not hold; starts a refresh for next time. */
  peers(now: number): PeerCounts {
    void this.refresh();
    const mine = new Set(this.held());
    let nodeCount = 0;
    let isolated = 0;
    let offline = 0;
    let recentlyOffline = 0;
    for (const [shard, counts] of this.latest) {
      if (mine.has(shard)) continue;
      nodeCount += counts.nodes;
      isolated += counts.isolated;
      offline += counts.offline;
      for (const since of counts.recentOffline) if (since > now - this.windowMs) recentlyOffline++;
    }
    return { nodeCount, isolated, offline, recentlyOffline };
  }

  /**
   * Reads every shard's counts. Asked while a read runs, it reads once more after that one (a
   * caller that just wrote wants counts read after its write), however many ask meanwhile.
   */
  refresh(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.poll().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.refresh();
    });
    return this.queued;
  }

  private async poll(): Promise<void> {
    const reads = [];
    for (let shard = 0; shard < this.shards; shard++) {
      reads.push(
        this.kv.get(keys.counts(shard)).then(
          (entry) => {
            if (entry?.operation === 'PUT') this.latest.set(shard, entry.json<ShardCounts>());
          },
          () => {
            // Unreachable now: the last counts stand until the next poll.
          },
        ),
      );
    }
    await Promise.all(reads);
  }
}
