import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidArgumentError, InvalidOptionsError, RelayFullError } from '../errors.js';
import { nodeIdPattern } from '../telemetry/index.js';
import { checkShardCount, shardOf, subjects } from './subjects.js';

/** The options of {@link createRelay}. */
export interface RelayOptions {
  /** The connection it publishes on (a relay user's, in production). */
  readonly connection: NatsConnection;
  /** Its name in the subjects it publishes to (`wyneos.relay.<shard>.<relayId>`). */
  readonly relayId: string;
  /** The fleet's shard count, as the supervisors have it. */
  readonly shards: number;
  /** Heartbeats in one message at most; a shard's queue reaching it is published. @defaultValue 1000 */
  readonly batchSize?: number;
  /**
   * Heartbeats one shard may hold while they wait to be published; past it `offer` throws
   * `RelayFullError`. At least `batchSize`. @defaultValue 10 × batchSize
   */
  readonly maxQueued?: number;
  /** How often every queue is published, whatever its length; 0: only when full or on `flush`. @defaultValue 1000 */
  readonly intervalMs?: number;
}

/** A relay: heartbeats in, one message per shard and batch out. */
export interface Relay {
  /**
   * Queues a node's heartbeat with the node's token (`nodeToken(secret, nodeId)`); the
   * supervisor checks both. Throws `RelayFullError` when the node's shard has `maxQueued`
   * waiting, and `InvalidArgumentError` for a token that names no node.
   */
  offer(token: string, heartbeat: unknown): void;
  /** One node's heartbeats, queued all or none (one node is one shard): as `offer`. */
  offerMany(token: string, heartbeats: readonly unknown[]): void;
  /** Publishes everything queued and waits until the server has it; answers the messages sent. */
  flush(): Promise<number>;
  /** Heartbeats waiting to be published, all shards together. */
  queued(): number;
  /** Totals since it started. */
  readonly counts: {
    readonly offered: number;
    readonly published: number;
    readonly messages: number;
  };
  /** Publishes what is queued, then stops its timer; `offer` is refused afterwards. */
  stop(): Promise<void>;
}

interface Item {
  readonly token: string;
  readonly heartbeat: unknown;
}

const idPattern = new RegExp(nodeIdPattern);

/**
 * Creates a relay on a NATS connection: nodes (or a simulator, or `wyneos relay`'s HTTP endpoint)
 * hand it heartbeats, and it publishes each shard's in batches to `wyneos.relay.<shard>.<id>`,
 * where the shard's supervisor takes each item through its heartbeat path. It checks no token
 * (it holds no secret): the supervisor does, so a relay cannot speak for a node whose token it
 * was never given. Memory is bounded per shard; what does not fit is refused, never dropped.
 */
export function createRelay(options: RelayOptions): Relay {
  const { connection: nc, relayId } = options;
  if (typeof relayId !== 'string' || !idPattern.test(relayId)) {
    throw new InvalidOptionsError('relayId', `expected an id such as relay-1, got ${relayId}`);
  }
  const shards = checkShardCount(options.shards, 'shards');
  const batchSize = positive(options.batchSize ?? 1000, 'batchSize');
  const maxQueued = positive(options.maxQueued ?? 10 * batchSize, 'maxQueued');
  if (maxQueued < batchSize) {
    throw new InvalidOptionsError('maxQueued', `expected at least batchSize (${batchSize})`);
  }
  const intervalMs = options.intervalMs ?? 1000;
  if (!Number.isInteger(intervalMs) || intervalMs < 0) {
    throw new InvalidOptionsError('intervalMs', `expected an integer ≥ 0, got ${intervalMs}`);
  }
  const queues: Item[][] = Array.from({ length: shards }, () => []);
  const encoder = new TextEncoder();
  const counts = { offered: 0, published: 0, messages: 0 };
  let waiting = 0;
  let stopped = false;
  // Full queues are published once the caller's synchronous run of offers is over, so what a
  // burst brings is bounded by maxQueued, not by how fast the socket drains.
  let fullSoon: NodeJS.Immediate | undefined;
  const timer = intervalMs > 0 ? setInterval(() => quietly(publishAll), intervalMs) : undefined;
  timer?.unref();

  function publish(shard: number, items: Item[]): void {
    nc.publish(subjects.relay(shard, relayId), encoder.encode(JSON.stringify({ items })));
    counts.published += items.length;
    counts.messages++;
  }

  function publishShard(shard: number, whole: boolean): number {
    const queue = queues[shard] as Item[];
    let sent = 0;
    while (queue.length >= (whole ? 1 : batchSize)) {
      const items = queue.splice(0, batchSize);
      try {
        publish(shard, items);
      } catch (error) {
        // The connection is closed: they stay queued, counted against the cap.
        queue.unshift(...items);
        throw error;
      }
      waiting -= items.length;
      sent++;
    }
    return sent;
  }

  function publishAll(): number {
    let sent = 0;
    for (let shard = 0; shard < shards; shard++) sent += publishShard(shard, true);
    return sent;
  }

  return {
    counts,
    offer(token, heartbeat) {
      this.offerMany(token, [heartbeat]);
    },
    offerMany(token, heartbeats) {
      if (stopped) throw new InvalidArgumentError('relay', 'the relay is stopped');
      const dot = typeof token === 'string' ? token.lastIndexOf('.') : -1;
      const nodeId = dot > 0 ? token.slice(0, dot) : '';
      if (!idPattern.test(nodeId)) {
        throw new InvalidArgumentError('token', "expected a node's token, <node id>.<mac>");
      }
      const shard = shardOf(nodeId, shards);
      const queue = queues[shard] as Item[];
      if (queue.length + heartbeats.length > maxQueued) throw new RelayFullError(shard, maxQueued);
      for (const heartbeat of heartbeats) queue.push({ token, heartbeat });
      waiting += heartbeats.length;
      counts.offered += heartbeats.length;
      if (queue.length >= batchSize && fullSoon === undefined) {
        fullSoon = setImmediate(() => {
          fullSoon = undefined;
          quietly(() => {
            for (let s = 0; s < shards; s++) publishShard(s, false);
          });
        });
      }
    },
    async flush() {
      const sent = publishAll();
      await nc.flush();
      return sent;
    },
    queued: () => waiting,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      if (fullSoon !== undefined) clearImmediate(fullSoon);
      publishAll();
      await nc.flush();
    },
  };
}

// In the background a closed connection is not an error of anyone's: what was not published
// stays queued (and bounded), and `flush` or `stop` reports it to the caller.
function quietly(publish: () => unknown): void {
  try {
    publish();
  } catch {
    // Kept queued; see above.
  }
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionsError(name, `expected a positive integer, got ${value}`);
  }
  return value;
}
