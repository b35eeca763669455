import type { NatsConnection } from '@nats-io/nats-core';
import type { FleetPage, FleetQuery } from '../supervisor/remote-nodes.js';
import type { NodeSnapshot } from '../types.js';
import { askHolder } from './ask-holder.js';
import type { NodesAsk, ShardPage } from './shard-answers.js';
import { shardOf } from './subjects.js';

/** Asks one shard's holder for a page of its nodes; undefined when it did not answer. */
export type AskShard = (shard: number, ask: NodesAsk) => Promise<ShardPage | undefined>;

/** Asks over NATS, every shard within the same bound. */
export function askOverNats(nc: NatsConnection, boundMs: number): AskShard {
  const deadline = Date.now() + boundMs;
  return async (shard, ask) => {
    const asked = await askHolder(nc, shard, ask, deadline);
    if (!('answer' in asked) || 'error' in asked.answer) return undefined;
    return asked.answer.ok as ShardPage;
  };
}

/**
 * One page of the whole fleet's nodes (`GET /v1/nodes?fleet=true`), gathered from every shard's
 * holder at once: by shard, then in each holder's registration order, so `next` (a node id) says
 * where the next page starts. The shards whose holder did not answer are named rather than left
 * out silently; a page goes past them.
 */
export async function listFleet(
  ask: AskShard,
  shards: number,
  query: FleetQuery,
): Promise<FleetPage> {
  const { state, after, limit } = query;
  const first = after === undefined ? 0 : shardOf(after, shards);
  const pages = await Promise.all(
    Array.from({ length: shards - first }, (_, i) =>
      ask(first + i, {
        op: 'nodes',
        shard: first + i,
        limit,
        ...(state === undefined ? {} : { state }),
        ...(after !== undefined && i === 0 ? { after } : {}),
      }),
    ),
  );
  const nodes: NodeSnapshot[] = [];
  const missingShards: number[] = [];
  for (const [i, page] of pages.entries()) {
    if (page === undefined) {
      missingShards.push(first + i);
      continue;
    }
    const room = limit - nodes.length;
    nodes.push(...page.nodes.slice(0, room));
    // The page is full, or this shard has more than it sent: the next page starts after it.
    if (page.nodes.length > room || page.more) {
      const next = nodes.at(-1)?.id;
      return next === undefined ? { nodes, missingShards } : { nodes, next, missingShards };
    }
  }
  return { nodes, missingShards };
}
