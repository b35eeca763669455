import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  type ErrorCode,
  errorCodes,
  InternalError,
  NoHolderError,
  WyneosError,
} from '../errors.js';
import type {
  FleetPage,
  FleetQuery,
  RemoteCommand,
  RemoteNodes,
  RemoteNodeView,
} from '../supervisor/remote-nodes.js';
import type { NodeSnapshot } from '../types.js';
import { askHolder } from './ask-holder.js';
import { askOverNats, listFleet } from './fleet-listing.js';
import type { Ask, HolderFailure } from './shard-answers.js';
import { shardOf } from './subjects.js';

/** How long a forwarded request waits for the holder, in all. */
export const forwardBoundMs = 2000;

/**
 * The holder's error, passed back as it threw it: its code (so the same HTTP status), message and
 * path. Not a code of its own: the code is the holder's.
 */
class HolderError extends WyneosError {
  readonly path: string;
  readonly retryAfterMs: number | undefined;

  constructor(failure: HolderFailure) {
    super(failure.code as ErrorCode, failure.message);
    this.path = failure.path;
    this.retryAfterMs = failure.retryAfterMs;
  }
}

/**
 * The asking side of forwarding: a read or command for a node another supervisor holds is sent
 * to its shard's holder over NATS request/reply and answered with what the holder answered, or
 * with NoHolderError when none did within the bound, never with a state read elsewhere. The
 * bound is real time (the network's), not the supervisor's clock.
 */
export class Forwarder implements RemoteNodes {
  constructor(
    private readonly nc: NatsConnection,
    private readonly parts: {
      readonly shards: number;
      /** Whether another supervisor holds the node's shard. */
      readonly elsewhere: (nodeId: string) => boolean;
      readonly boundMs?: number;
    },
  ) {}

  elsewhere(nodeId: string): boolean {
    return this.parts.elsewhere(nodeId);
  }

  async node(nodeId: string): Promise<RemoteNodeView> {
    const shard = shardOf(nodeId, this.parts.shards);
    const { ok, supervisor } = await this.ask({ op: 'node', nodeId });
    return { ...(ok as Omit<RemoteNodeView, 'source'>), source: { supervisor, shard } };
  }

  /** Whether the node's holder knows it; NoHolderError when no holder answers. */
  async registered(nodeId: string): Promise<boolean> {
    try {
      await this.ask({ op: 'node', nodeId });
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'WYNEOS_ERR_UNKNOWN_NODE') return false;
      throw error;
    }
  }

  async command(nodeId: string, command: RemoteCommand): Promise<NodeSnapshot | undefined> {
    // One id for every attempt: the holder carries the command out once however often it comes.
    const commandId = randomUUID();
    const ask: Ask =
      command.type === 'deregister'
        ? { op: 'deregister', nodeId, commandId }
        : {
            op: command.type,
            nodeId,
            commandId,
            ...(command.reason === undefined ? {} : { reason: command.reason }),
          };
    const { ok } = await this.ask(ask);
    return (ok ?? undefined) as NodeSnapshot | undefined;
  }

  fleet(query: FleetQuery): Promise<FleetPage> {
    const ask = askOverNats(this.nc, this.parts.boundMs ?? forwardBoundMs);
    return listFleet(ask, this.parts.shards, query);
  }

  private async ask(ask: Ask & { nodeId: string }): Promise<{ ok: unknown; supervisor: string }> {
    const boundMs = this.parts.boundMs ?? forwardBoundMs;
    const shard = shardOf(ask.nodeId, this.parts.shards);
    const asked = await askHolder(this.nc, shard, ask, Date.now() + boundMs);
    if (!('answer' in asked)) throw new NoHolderError(ask.nodeId, shard, boundMs, asked.delivered);
    const { answer } = asked;
    if ('error' in answer) throw holderError(answer.error);
    return answer;
  }
}

function holderError(failure: HolderFailure): WyneosError {
  if (!(failure.code in errorCodes)) return new InternalError({ cause: failure });
  return new HolderError(failure);
}
