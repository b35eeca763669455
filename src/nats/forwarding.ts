import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type NatsConnection, TimeoutError } from '@nats-io/nats-core';
import {
  type ErrorCode,
  errorCodes,
  InternalError,
  NatsError,
  NoHolderError,
  WyneosError,
} from '../errors.js';
import { thrownMessage } from '../show.js';
import type { RemoteCommand, RemoteNodes, RemoteNodeView } from '../supervisor/remote-nodes.js';
import type { NodeSnapshot } from '../types.js';
import type { Answer, Ask } from './shard-answers.js';
import { shardOf, subjects } from './subjects.js';

/** How long a forwarded request waits for the holder, in all. */
export const forwardBoundMs = 2000;
// One attempt's wait: a request that reached nobody (between holders) is sent again meanwhile.
const attemptMs = 500;
const pauseMs = 100;

/**
 * The holder's error, passed back as it threw it: its code (so the same HTTP status), message and
 * path. Not a code of its own: the code is the holder's.
 */
class HolderError extends WyneosError {
  readonly path: string;

  constructor(code: ErrorCode, message: string, path: string) {
    super(code, message);
    this.path = path;
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

  private async ask(ask: Ask): Promise<{ ok: unknown; supervisor: string }> {
    const boundMs = this.parts.boundMs ?? forwardBoundMs;
    const shard = shardOf(ask.nodeId, this.parts.shards);
    const deadline = Date.now() + boundMs;
    let delivered = false;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new NoHolderError(ask.nodeId, shard, boundMs, delivered);
      let answer: Answer;
      try {
        const reply = await this.nc.request(subjects.ask(shard), JSON.stringify(ask), {
          timeout: Math.min(left, attemptMs),
        });
        answer = reply.json<Answer>();
      } catch (error) {
        if (isNoResponders(error)) {
          await delay(Math.min(pauseMs, Math.max(0, deadline - Date.now())));
        } else if (isTimeout(error)) {
          delivered = true;
        } else {
          throw new NatsError(`Cannot forward to shard ${shard}: ${thrownMessage(error)}`, {
            cause: error,
          });
        }
        continue;
      }
      if ('error' in answer) throw holderError(answer.error);
      return answer;
    }
  }
}

function holderError(error: { code: string; message: string; path: string }): WyneosError {
  if (!(error.code in errorCodes)) return new InternalError({ cause: error });
  return new HolderError(error.code as ErrorCode, error.message, error.path);
}

function isNoResponders(error: unknown): boolean {
  return (error as { isNoResponders?: () => boolean }).isNoResponders?.() === true;
}

function isTimeout(error: unknown): boolean {
  return error instanceof TimeoutError || (error as Error | null)?.cause instanceof TimeoutError;
}
