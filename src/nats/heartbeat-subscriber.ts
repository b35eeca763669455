import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { WyneosError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Supervisor } from '../supervisor/index.js';
import { nodeIdOfSubject, subjects } from './subjects.js';

/** What happened to the heartbeats received so far. */
export interface HeartbeatCounts {
  accepted: number;
  refused: number;
  unknown: number;
}

const codec = new TextDecoder();

/**
 * Takes heartbeats and registrations off the bus for the shards this supervisor holds, and
 * only those: one subscription per shard and kind (`wyneos.hb.<shard>.*`,
 * `wyneos.reg.<shard>.*`), made when the shard is acquired and dropped when it goes.
 * A heartbeat is fire-and-forget; a registration is answered, once durable.
 */
export class HeartbeatSubscriber {
  readonly counts: HeartbeatCounts = { accepted: 0, refused: 0, unknown: 0 };
  private readonly subscriptions = new Map<number, Subscription[]>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly supervisor: Supervisor,
    private readonly log: Logger,
    /** A heartbeat from a node this supervisor does not know: tell it to register. */
    private readonly unknownNode: (nodeId: string) => void,
  ) {}

  hold(shard: number): void {
    if (this.subscriptions.has(shard)) return;
    this.subscriptions.set(shard, [
      this.nc.subscribe(subjects.shardHeartbeats(shard), {
        callback: (error, msg) => {
          if (error === null) this.heartbeat(msg);
        },
      }),
      this.nc.subscribe(subjects.shardRegistrations(shard), {
        callback: (error, msg) => {
          if (error === null) void this.register(msg);
        },
      }),
    ]);
  }

  drop(shard: number): void {
    for (const subscription of this.subscriptions.get(shard) ?? []) subscription.unsubscribe();
    this.subscriptions.delete(shard);
  }

  close(): void {
    for (const shard of [...this.subscriptions.keys()]) this.drop(shard);
  }

  private heartbeat(msg: Msg): void {
    const nodeId = nodeIdOfSubject(msg.subject);
    try {
      const body = parse(msg.data);
      // The subject names the node: a body for another node is refused, not redirected.
      if (body.nodeId !== nodeId) {
        this.counts.refused++;
        return;
      }
      this.supervisor.heartbeat(body as never);
      this.counts.accepted++;
    } catch (error) {
      if (error instanceof WyneosError && error.code === 'WYNEOS_ERR_UNKNOWN_NODE') {
        this.counts.unknown++;
        this.unknownNode(nodeId);
      } else {
        this.counts.refused++;
        if (!(error instanceof WyneosError)) throw error;
      }
    }
  }

  private async register(msg: Msg): Promise<void> {
    const nodeId = nodeIdOfSubject(msg.subject);
    let reply: unknown;
    try {
      const body = parse(msg.data);
      if (body.id !== nodeId)
        throw new WyneosError('WYNEOS_ERR_INVALID_NODE', 'the id differs from the subject');
      const node = this.supervisor.register(body as never);
      await this.supervisor.durable();
      reply = { node };
    } catch (error) {
      if (!(error instanceof WyneosError)) {
        this.log.error({ nodeId, error: String(error) }, 'registration failed');
        reply = { error: { code: 'WYNEOS_ERR_INTERNAL', message: 'registration failed' } };
      } else reply = { error: { code: error.code, message: error.message } };
    }
    msg.respond(JSON.stringify(reply));
  }
}

function parse(data: Uint8Array): Record<string, unknown> {
  try {
    const value = JSON.parse(codec.decode(data));
    if (typeof value === 'object' && value !== null) return value;
  } catch {
    // Falls through to the typed error below.
  }
  throw new WyneosError('WYNEOS_ERR_INVALID_HEARTBEAT', 'the message is not a JSON object');
}
