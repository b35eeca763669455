import type { NatsConnection } from '@nats-io/nats-core';
import { shardOf, subjects } from '../../src/nats/index.js';

/** Many simulated nodes on one NATS connection: they register and heartbeat as agents do. */
export class SimulatedNodes {
  private seq = 0;

  constructor(
    private readonly nc: NatsConnection,
    readonly ids: readonly string[],
    private readonly shards: number,
  ) {}

  /** Registers every node (answered by its shard's holder, once durable); retries until each is. */
  async register(deadlineMs = 20_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    let pending = [...this.ids];
    while (pending.length > 0) {
      if (Date.now() > deadline) throw new Error(`${pending.length} nodes not registered`);
      const results = await Promise.all(
        pending.map(async (id) => {
          try {
            const reply = await this.nc.request(
              subjects.register(shardOf(id, this.shards), id),
              JSON.stringify({ id, labels: { tier: id.startsWith('bad') ? 'bad' : 'good' } }),
              { timeout: 5000 },
            );
            const body = reply.json<{ error?: { code: string } }>();
            return body.error === undefined || body.error.code === 'WYNEOS_ERR_DUPLICATE_NODE';
          } catch {
            return false; // no holder yet for its shard: again
          }
        }),
      );
      pending = pending.filter((_, i) => !results[i]);
    }
  }

  /** One heartbeat from every node. */
  beat(load = 0.3): void {
    this.seq = Math.max(this.seq + 1, Date.now());
    for (const id of this.ids) {
      this.nc.publish(
        subjects.heartbeat(shardOf(id, this.shards), id),
        JSON.stringify({ nodeId: id, seq: this.seq, load }),
      );
    }
  }

  /** Heartbeats every `ms` until the returned function is called. */
  beatEvery(ms: number): () => void {
    this.beat();
    const timer = setInterval(() => this.beat(), ms);
    return () => clearInterval(timer);
  }
}
