import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AskShard, listFleet } from '../../src/nats/fleet-listing.js';
import { shardPage } from '../../src/nats/shard-answers.js';
import { shardOf } from '../../src/nats/subjects.js';
import type { NodeSnapshot, NodeState } from '../../src/types.js';

const states: NodeState[] = ['online', 'overloaded', 'isolated', 'offline'];

// The holders of a fleet as listFleet meets them: each answers for its shard with shardPage, and
// fits at most `cap` nodes in one message (its payload limit); the holders of `missing` shards
// never answer.
const fleets = fc
  .record({
    shards: fc.integer({ min: 1, max: 6 }),
    states: fc.array(fc.constantFrom(...states), { maxLength: 40 }),
    caps: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 6, maxLength: 6 }),
    missing: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    limit: fc.integer({ min: 1, max: 8 }),
    state: fc.option(fc.constantFrom(...states), { nil: undefined }),
  })
  .map((fleet) => ({
    ...fleet,
    nodes: fleet.states.map((state, i) => ({ id: `n-${i}`, state }) as NodeSnapshot),
  }));

describe('nats: listing the fleet from its shards', () => {
  it('pages through every answering shard, each matching node once in shard then registration order, naming every silent shard', async () => {
    await fc.assert(
      fc.asyncProperty(fleets, async ({ shards, nodes, caps, missing, limit, state }) => {
        const ofShard = (shard: number) => nodes.filter((n) => shardOf(n.id, shards) === shard);
        const ask: AskShard = async (shard, request) =>
          missing[shard]
            ? undefined
            : shardPage(ofShard(shard), request, (page) => page.length <= (caps[shard] as number));
        const listed: string[] = [];
        const silent = new Set<number>();
        let after: string | undefined;
        for (let pages = 0; ; pages++) {
          expect(pages).toBeLessThanOrEqual(nodes.length + 1);
          const page = await listFleet(ask, shards, {
            limit,
            ...(state === undefined ? {} : { state }),
            ...(after === undefined ? {} : { after }),
          });
          expect(page.nodes.length).toBeLessThanOrEqual(limit);
          listed.push(...page.nodes.map((n) => n.id));
          for (const shard of page.missingShards) silent.add(shard);
          after = page.next;
          if (after === undefined) break;
        }
        const answering = Array.from({ length: shards }, (_, shard) => shard).filter(
          (shard) => !missing[shard],
        );
        const expected = answering.flatMap((shard) =>
          ofShard(shard)
            .filter((n) => state === undefined || n.state === state)
            .map((n) => n.id),
        );
        expect(listed).toEqual(expected);
        expect([...silent].sort()).toEqual(
          Array.from({ length: shards }, (_, shard) => shard).filter((shard) => missing[shard]),
        );
      }),
      { numRuns: 300 },
    );
  });
});
