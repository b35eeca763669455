import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { InternalError, InvalidRequestError, UnknownNodeError, WyneosError } from '../errors.js';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import type { Supervisor } from '../supervisor/index.js';
import type { NodeSnapshot, NodeState } from '../types.js';
import { shardOf, subjects } from './subjects.js';

/** What one supervisor asks the holder of a node's shard (on `subjects.ask(shard)`). */
export type Ask =
  | { readonly op: 'node'; readonly nodeId: string }
  | {
      readonly op: 'isolate' | 'reinstate';
      readonly nodeId: string;
      readonly reason?: string;
      /** The same for every attempt of one command: the holder carries it out once. */
      readonly commandId: string;
    }
  | { readonly op: 'deregister'; readonly nodeId: string; readonly commandId: string }
  | NodesAsk;

/** A page of the nodes of one shard, in its holder's registration order (`GET /v1/nodes?fleet`). */
export interface NodesAsk {
  readonly op: 'nodes';
  readonly shard: number;
  readonly state?: NodeState;
  /** Only the nodes after this one (its id is of this shard). */
  readonly after?: string;
  readonly limit: number;
}

/** The answer to a NodesAsk: `more` when the shard has nodes after the last one sent. */
export interface ShardPage {
  readonly nodes: readonly NodeSnapshot[];
  readonly more: boolean;
}

/** An error the holder threw, as it sends it back. */
export interface HolderFailure {
  readonly code: string;
  readonly message: string;
  readonly path: string;
  /** When to try again, for errors that say (storage degraded, rate limited). */
  readonly retryAfterMs?: number;
}

/** The holder's answer: what it did or read, or the error it threw, and who it is. */
export type Answer = { readonly supervisor: string } & (
  | { readonly ok: unknown }
  | { readonly error: HolderFailure }
);

// Commands remembered by id, so a forward sent again (its answer late) is answered, not redone.
const rememberedCommands = 4096;

/**
 * The holder's side of forwarding: for each shard it holds it answers on the shard's ask
 * subject, as its own API would (the same checks and errors), commands once they are durable.
 * Every subscriber of the subject gets each request (no queue group): a supervisor whose lease
 * has lapsed but who is still subscribed stays silent, and the holder's answer is the one taken.
 */
export class ShardAnswers {
  private readonly subscriptions = new Map<number, Subscription>();
  private readonly commands = new Map<string, Promise<Answer>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly supervisor: Supervisor,
    private readonly parts: {
      readonly id: string;
      readonly shards: number;
      /** Whether the shard's lease is certainly this supervisor's now. */
      readonly holds: (shard: number) => boolean;
      readonly log: Logger;
    },
  ) {}

  /** Starts answering for a shard just acquired. */
  hold(shard: number): void {
    if (this.subscriptions.has(shard)) return;
    const subscription = this.nc.subscribe(subjects.ask(shard), {
      callback: (error, msg) => {
        if (error === null) void this.answer(shard, msg);
      },
    });
    this.subscriptions.set(shard, subscription);
  }

  /** Stops answering for a shard released or lost. */
  drop(shard: number): void {
    this.subscriptions.get(shard)?.unsubscribe();
    this.subscriptions.delete(shard);
  }

  close(): void {
    for (const shard of [...this.subscriptions.keys()]) this.drop(shard);
  }

  private async answer(shard: number, msg: Msg): Promise<void> {
    // Checked as each request arrives: a lease lapsed and not yet noticed answers nothing.
    if (!this.parts.holds(shard)) return;
    let answer: Answer;
    try {
      const ask = parseAsk(msg.data, shard, this.parts.shards);
      answer =
        ask.op === 'node'
          ? this.read(ask.nodeId)
          : ask.op === 'nodes'
            ? this.list(ask)
            : await this.once(ask);
    } catch (error) {
      answer = this.failed(error);
    }
    try {
      msg.respond(JSON.stringify(answer));
    } catch (error) {
      this.parts.log.debug({ shard, error: thrownMessage(error) }, 'forwarded answer not sent');
    }
  }

  private read(nodeId: string): Answer {
    const node = this.supervisor.node(nodeId);
    if (node === undefined) return this.failed(new UnknownNodeError(nodeId));
    const ok = {
      node,
      licence: this.supervisor.licence(nodeId) ?? null,
      rules: this.supervisor.explain(nodeId),
    };
    return { supervisor: this.parts.id, ok };
  }

  private list(ask: NodesAsk): Answer {
    const { shards } = this.parts;
    const nodes = this.supervisor.nodes().filter((node) => shardOf(node.id, shards) === ask.shard);
    // Within what the server lets one message carry.
    const room = (this.nc.info?.max_payload ?? 1_048_576) - 4096;
    const fits = (page: readonly NodeSnapshot[]) => Buffer.byteLength(JSON.stringify(page)) <= room;
    return { supervisor: this.parts.id, ok: shardPage(nodes, ask, fits) };
  }

  private once(ask: Command): Promise<Answer> {
    const known = this.commands.get(ask.commandId);
    if (known !== undefined) return known;
    const answer = this.carryOut(ask);
    this.commands.set(ask.commandId, answer);
    if (this.commands.size > rememberedCommands) {
      this.commands.delete(this.commands.keys().next().value as string);
    }
    return answer;
  }

  private async carryOut(ask: Command): Promise<Answer> {
    try {
      const { supervisor } = this;
      const node =
        ask.op === 'deregister'
          ? supervisor.deregister(ask.nodeId)
          : supervisor[ask.op](ask.nodeId, ask.reason);
      // Answered once durable, as the holder's own API answers.
      await supervisor.durable();
      return { supervisor: this.parts.id, ok: node ?? null };
    } catch (error) {
      return this.failed(error);
    }
  }

  private failed(error: unknown): Answer {
    const known = error instanceof WyneosError ? error : new InternalError({ cause: error });
    if (!(error instanceof WyneosError)) {
      this.parts.log.error({ error: thrownMessage(error) }, 'forwarded request failed');
    }
    const path = 'path' in known && typeof known.path === 'string' ? known.path : '';
    const { retryAfterMs } = known as { retryAfterMs?: unknown };
    const retry = typeof retryAfterMs === 'number' ? { retryAfterMs } : {};
    return {
      supervisor: this.parts.id,
      error: { code: known.code, message: known.message, path, ...retry },
    };
  }
}

/**
 * A page of one shard's nodes (in registration order) as its holder answers a NodesAsk: after
 * `after`, in `state`, at most `limit`, and halved until it `fits` in one message; `more` when
 * nodes are left after it.
 */
export function shardPage(
  shardNodes: readonly NodeSnapshot[],
  ask: NodesAsk,
  fits: (page: readonly NodeSnapshot[]) => boolean,
): ShardPage {
  let nodes = shardNodes;
  if (ask.after !== undefined) nodes = nodes.slice(nodes.findIndex((n) => n.id === ask.after) + 1);
  if (ask.state !== undefined) nodes = nodes.filter((node) => node.state === ask.state);
  let page = nodes.slice(0, ask.limit);
  while (page.length > 1 && !fits(page)) page = page.slice(0, Math.ceil(page.length / 2));
  return { nodes: page, more: nodes.length > page.length };
}

type Command = Extract<Ask, { commandId: string }>;

const nodeStates: readonly unknown[] = ['online', 'overloaded', 'isolated', 'offline'];

function parseAsk(data: Uint8Array, shard: number, shards: number): Ask {
  let ask: Partial<Record<string, unknown>>;
  try {
    ask = JSON.parse(new TextDecoder().decode(data)) as Partial<Record<string, unknown>>;
  } catch {
    throw new InvalidRequestError('', 'a forwarded request must be JSON');
  }
  const { op, nodeId, commandId, reason } = ask ?? {};
  if (op === 'nodes') return parseNodesAsk(ask, shard);
  if (typeof nodeId !== 'string' || shardOf(nodeId, shards) !== shard) {
    throw new InvalidRequestError('/nodeId', `expected the id of a node of shard ${shard}`);
  }
  if (op === 'node') return { op, nodeId };
  if (op !== 'isolate' && op !== 'reinstate' && op !== 'deregister') {
    throw new InvalidRequestError('/op', 'expected node, nodes, isolate, reinstate or deregister');
  }
  if (typeof commandId !== 'string' || commandId.length === 0) {
    throw new InvalidRequestError('/commandId', 'a forwarded command must carry its id');
  }
  if (op === 'deregister') return { op, nodeId, commandId };
  // The reason is checked by the supervisor, as for its own callers.
  return { op, nodeId, commandId, ...(reason === undefined ? {} : { reason: reason as string }) };
}

function parseNodesAsk(ask: Partial<Record<string, unknown>>, shard: number): NodesAsk {
  const { state, after, limit } = ask;
  if (ask.shard !== shard) throw new InvalidRequestError('/shard', `expected ${shard}`);
  if (state !== undefined && !nodeStates.includes(state)) {
    throw new InvalidRequestError('/state', 'expected a node state');
  }
  if (after !== undefined && typeof after !== 'string') {
    throw new InvalidRequestError('/after', 'expected a node id');
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidRequestError('/limit', 'expected a positive integer');
  }
  return {
    op: 'nodes',
    shard,
    limit,
    ...(state === undefined ? {} : { state: state as NodeState }),
    ...(after === undefined ? {} : { after }),
  };
}
