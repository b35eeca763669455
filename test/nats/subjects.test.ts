import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkShardCount,
  decodeId,
  encodeId,
  keys,
  nodeIdOfSubject,
  shardOf,
  subjects,
} from '../../src/nats/index.js';
import { nodeIdPattern } from '../../src/telemetry/index.js';

const nodeIds = fc.stringMatching(new RegExp(nodeIdPattern));

describe('nats subjects', () => {
  it('encodes every valid node id as one subject token and KV key segment, reversibly', () => {
    fc.assert(
      fc.property(nodeIds, (id) => {
        const token = encodeId(id);
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeId(token)).toBe(id);
        expect(nodeIdOfSubject(subjects.heartbeat(shardOf(id, 16), id))).toBe(id);
        expect(keys.node(3, id)).toMatch(/^[-/_=.a-zA-Z0-9]+$/);
      }),
    );
  });

  it('keeps distinct ids distinct once encoded', () => {
    fc.assert(
      fc.property(nodeIds, nodeIds, (a, b) => {
        fc.pre(a !== b);
        expect(encodeId(a)).not.toBe(encodeId(b));
      }),
    );
  });

  it('puts a node in the same shard on every process, spread over all shards', () => {
    // Pinned values: a change of hash would move every node of a running fleet.
    expect([shardOf('node-1', 16), shardOf('node-2', 16), shardOf('a.b:c', 16)]).toEqual([3, 6, 3]);
    expect(shardOf('', 16)).toBe(0x811c9dc5 % 16);
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`node-${i}`, 16)]++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
    fc.assert(
      fc.property(nodeIds, fc.integer({ min: 1, max: 4096 }), (id, n) => {
        const shard = shardOf(id, n);
        expect(shard).toBeGreaterThanOrEqual(0);
        expect(shard).toBeLessThan(n);
      }),
    );
  });

  it('refuses a shard count that is not a whole number from 1 to 4096', () => {
    for (const bad of [0, -1, 1.5, 4097, Number.NaN, '16']) {
      expect(() => checkShardCount(bad)).toThrow(
        expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(checkShardCount(16)).toBe(16);
  });
});
