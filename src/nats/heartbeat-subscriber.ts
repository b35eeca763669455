import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { HeartbeatResyncError, LeaseLostError, WyneosError } from '../errors.js';
import type { Authenticator } from '../http/auth.js';
import type { Logger } from '../logger.js';
import type { HeartbeatResult, Supervisor } from '../supervisor/index.js';
import { ingestRelayBatch } from './relay-batches.js';
import { nodeIdOfSubject, subjects } from './subjects.js';

/** What happened to the heartbeats received so far. */
export interface HeartbeatCounts {
  accepted: number;
  refused: number;
  unknown: number;
  /** Relayed items whose token does not prove their node, or that name another node. */
  impersonation: number;
  /** Relayed batches taken off the bus (their items are counted above). */
  batches: number;
}

const codec = new TextDecoder();

/**
 * Takes heartbeats and registrations off the bus for the shards this supervisor holds, and
 * only those: one subscription per shard and kind (`wyneos.hb.<shard>.*`,
 * `wyneos.reg.<shard>.*`), made when the shard is acquired and dropped when it goes.
 * A heartbeat is fire-and-forget; a registration is answered, once durable.
 */
export class HeartbeatSubscriber {
  readonly counts: HeartbeatCounts = {
    accepted: 0,
    refused: 0,
    unknown: 0,
    impersonation: 0,
    batches: 0,
  };
  private readonly subscriptions = new Map<number, Subscription[]>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly supervisor: Supervisor,
    private readonly log: Logger,
    /** A heartbeat from a node this supervisor does not know: tell it to register. */
    private readonly unknownNode: (nodeId: string) => void,
    /** A node's shard, and whether it is held here now (a message may outlive a handover). */
    private readonly shardOf: (nodeId: string) => {
      readonly shard: number;
      readonly held: boolean;
    },
    /** Checks each relayed item's node token; without it, relayed items are refused. */
    private readonly auth?: Authenticator,
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
          if (error === null) this.register(msg);
        },
      }),
      this.nc.subscribe(subjects.shardRelays(shard), {
        callback: (error, msg) => {
          if (error === null) this.relayed(shard, msg);
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

  // The subject is the sender: a body for another node is impersonation, decided (with
  // everything else about a heartbeat) by the supervisor's heartbeat path.
  private heartbeat(msg: Msg): void {
    const nodeId = nodeIdOfSubject(msg.subject);
    let body: Record<string, unknown>;
    try {
      body = parse(msg.data);
    } catch (error) {
      this.counts.refused++;
      if (msg.reply) msg.respond(JSON.stringify(errorReply(error, this.log)));
      return;
    }
    let result: HeartbeatResult | undefined;
    try {
      [result] = this.supervisor.heartbeats([body], { sender: nodeId });
    } catch (error) {
      // Stopped meanwhile: refused like any other; anything else is a bug.
      if (!(error instanceof WyneosError)) throw error;
      result = { ok: false, nodeId, error };
    }
    if (result?.ok === true) {
      this.counts.accepted++;
      // Heartbeats are published without a reply subject; one sent as a request gets the boot.
      if (msg.reply) msg.respond(JSON.stringify({ boot: result.boot }));
      return;
    }
    const error = result?.error;
    if (msg.reply) msg.respond(JSON.stringify(errorReply(error, this.log)));
    if (error?.code === 'WYNEOS_ERR_UNKNOWN_NODE') {
      this.counts.unknown++;
      if (this.shardOf(nodeId).held) this.unknownNode(nodeId);
    } else {
      this.counts.refused++;
    }
  }

  // A relay's batch: each item proved by its own node's token, and taken or refused alone.
  private relayed(shard: number, msg: Msg): void {
    let ingested: ReturnType<typeof ingestRelayBatch>;
    try {
      ingested = ingestRelayBatch(msg.data, shard, {
        supervisor: this.supervisor,
        auth: this.auth,
        shardOf: (nodeId) => this.shardOf(nodeId).shard,
      });
    } catch (error) {
      // Stopped meanwhile: the batch is refused like a heartbeat would be.
      if (!(error instanceof WyneosError)) throw error;
      this.counts.refused++;
      if (msg.reply) msg.respond(JSON.stringify(errorReply(error, this.log)));
      return;
    }
    const { outcome, results } = ingested;
    this.counts.batches++;
    this.counts.accepted += outcome.accepted;
    this.counts.refused += outcome.refused;
    this.counts.impersonation += outcome.impersonation;
    this.counts.unknown += outcome.unknown.length;
    for (const nodeId of outcome.unknown) if (this.shardOf(nodeId).held) this.unknownNode(nodeId);
    if (outcome.impersonation > 0) {
      this.log.warn(
        { relay: nodeIdOfSubject(msg.subject), items: outcome.impersonation },
        'relayed heartbeats for nodes the relay may not speak for were refused',
      );
    }
    // Published without a reply subject; one sent as a request learns each item's fate.
    if (msg.reply) {
      msg.respond(
        JSON.stringify({
          results: results.map((result) =>
            result.ok
              ? { nodeId: result.nodeId, boot: result.boot }
              : { nodeId: result.nodeId, ...(errorReply(result.error, this.log) as object) },
          ),
        }),
      );
    }
  }

  private pending: Array<{ msg: Msg; nodeId: string }> = [];

  // Registrations arriving together are registered together: one commit (one capture of the
  // state, one diff) for the batch rather than one per node, which made a thousand arriving
  // at once quadratic.
  private register(msg: Msg): void {
    this.pending.push({ msg, nodeId: nodeIdOfSubject(msg.subject) });
    if (this.pending.length === 1) setImmediate(() => void this.registerPending());
  }

  private async registerPending(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const replies = new Map<Msg, unknown>();
    const fresh: Array<{ msg: Msg; body: Record<string, unknown> }> = [];
    const seen = new Set<string>();
    for (const { msg, nodeId } of batch) {
      try {
        const body = parse(msg.data);
        if (body.id !== nodeId) {
          throw new WyneosError('WYNEOS_ERR_INVALID_NODE', 'the id differs from the subject');
        }
        if (seen.has(nodeId)) throw new WyneosError('WYNEOS_ERR_DUPLICATE_NODE', `${nodeId} twice`);
        // Sent before a handover, answered after it: registering here would keep the node
        // where its state is never written. Refused; the agent asks the new holder.
        const { shard, held } = this.shardOf(nodeId);
        if (!held) throw new LeaseLostError(shard, `this supervisor no longer holds ${nodeId}`);
        seen.add(nodeId);
        fresh.push({ msg, body });
      } catch (error) {
        replies.set(msg, errorReply(error, this.log));
      }
    }
    try {
      this.supervisor.registerMany(fresh.map(({ body }) => body as never));
      for (const { msg, body } of fresh) {
        replies.set(msg, { node: this.supervisor.node(body.id as string) });
      }
    } catch {
      // One of them is refused (taken, invalid, denied admission): each on its own, so the
      // others are still registered and each gets its own answer.
      for (const { msg, body } of fresh) {
        try {
          replies.set(msg, { node: this.supervisor.register(body as never) });
        } catch (error) {
          replies.set(msg, errorReply(error, this.log));
        }
      }
    }
    try {
      await this.supervisor.durable();
    } catch (error) {
      // Not durable: no registration is confirmed; the agents ask again.
      for (const { msg } of batch) replies.set(msg, errorReply(error, this.log));
    }
    for (const [msg, reply] of replies) msg.respond(JSON.stringify(reply));
  }
}

function errorReply(error: unknown, log: Logger): unknown {
  if (error instanceof HeartbeatResyncError) {
    return { error: { code: error.code, message: error.message, boot: error.boot } };
  }
  if (error instanceof WyneosError) return { error: { code: error.code, message: error.message } };
  log.error({ error: String(error) }, 'registration failed');
  return { error: { code: 'WYNEOS_ERR_INTERNAL', message: 'registration failed' } };
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
