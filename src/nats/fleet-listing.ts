import type { NatsConnection } from '@nats-io/nats-core';
import type { FleetPage, FleetQuery } from '../supervisor/remote-nodes.js';
import type { NodeSnapshot } from '../types.js';
import { askHolder } from './ask-holder.js';
import type { ShardPage } from './shard-answers.js';
import { shardOf } from './subjects.js';

/**
 * One page of the whole fleet's nodes (`GET /v1/nodes?fleet=true`), gathered from every shard's
 * holder at once within the bound: by shard, then in each holder's registration order, so `next`
 * (a node id) says where the next page starts. The shards whose holder did not answer are named
 * rather than left out silently; a page goes past them.
 */
export async function listFleet(
  nc: NatsConnection,
  shards: number,
  query: FleetQuery,
  boundMs: number,
): Promise<FleetPage> {
  const { state, after, limit } = query;
  const first = after === undefined ? 0 : shardOf(after, shards);
  const deadline = Date.now() + boundMs;
  const asked = Array.from({ length: shards - first }, (_, i) => {
    const shard = first + i;
    return askHolder(
      nc,
      shard,
      {
        op: 'nodes',
        shard,
        limit,
        ...(state === undefined ? {} : { state }),
        ...(after !== undefined && shard === first ? { after } : {}),
      },
      deadline,
    );
  });
  const answers = await Promise.all(asked);
  const nodes: NodeSnapshot[] = [];
  const missingShards: number[] = [];
  for (const [i, asked] of answers.entries()) {
    if (!('answer' in asked) || 'error' in asked.answer) {
      missingShards.push(first + i);
      continue;
    }
    const page = asked.answer.ok as ShardPage;
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
