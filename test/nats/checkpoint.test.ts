import { jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LeaseLostError, StateCorruptError, StorageError } from 'wyneos';
import {
  buckets,
  changesStream,
  KvStateStore,
  keys,
  loadShard,
  type ShardLog,
  type StoredNode,
  subjects,
} from '../../src/nats/index.js';
import { durableNode, durableState, freshChanges } from './durable-fixtures.js';
import { natsPerFile } from './per-test.js';
import { eventually, natsServerPath } from './server.js';

// A shard is a checkpoint (chunks in the state bucket) and a change stream since it: a
// takeover reads the two, not a key per node, and its claim fences the former holder off.

const log = pino({ level: 'silent' });

function fleet(size: number, state: 'online' | 'isolated' = 'online') {
  return Array.from({ length: size }, (_, i) => durableNode(`n-${i}`, state));
}

describe.skipIf(natsServerPath === undefined)('nats: shard checkpoints and change streams', () => {
  const nats = natsPerFile();
  let kv: KV;
  let changes: ShardLog;
  let bucket = 0;

  async function fresh() {
    kv = await new Kvm(nats.nc).create(`${buckets.state}-ckpt-${bucket++}`, { history: 1 });
    changes = await freshChanges(nats.nc);
  }
  function store(fence: number, log_ = changes, checkpointRecords = 100) {
    return new KvStateStore(kv, 1, {
      changes: log_,
      shards: 1,
      windowMs: 3000,
      log,
      checkpointRecords,
      fenceOf: () => fence,
      fenced: () => {},
    });
  }
  /** How many entries the shard's change stream holds. */
  async function entries(): Promise<number> {
    const jsm = await jetstreamManager(nats.nc);
    const info = await jsm.streams.info(changesStream, { subjects_filter: subjects.changes(0) });
    return info.state.subjects?.[subjects.changes(0)] ?? 0;
  }
  /** A shard of 2,000 nodes checkpointed in more than one chunk, then three changes. */
  async function checkpointed() {
    await fresh();
    const first = store(3);
    await first.claim(0, 3);
    const nodes = fleet(2000);
    await first.saveChanges(durableState(nodes), new Set(nodes.map((n) => n.id)));
    await first.checkpointed();
    const changed = [durableNode('n-1', 'isolated'), durableNode('n-2', 'offline')];
    await first.saveChanges(durableState(changed), new Set(['n-1', 'n-2', 'n-3']));
    return first;
  }

  it('checkpoints a shard, trims its stream, and a takeover reads the checkpoint and the tail', async () => {
    await checkpointed();
    const loaded = await loadShard(kv, changes, 0);
    expect(loaded.head.head).toMatchObject({ nodes: 2000 });
    expect(loaded.head.head?.chunks).toBeGreaterThan(1);
    // The checkpoint's last entry stays (it carries the shard's sequence); one entry after it.
    expect(await entries()).toBe(2);
    expect(loaded.tail).toBe(3);

    const next = store(5);
    const { nodes } = await next.claim(0, 5);
    expect(nodes).toHaveLength(1999);
    const states = new Map(nodes.map((n) => [n.id, n.state]));
    expect([states.get('n-1'), states.get('n-2'), states.get('n-3')]).toEqual([
      'isolated',
      'offline',
      undefined,
    ]);
    expect(states.get('n-1999')).toBe('online');
  });

  it('refuses a checkpoint with a chunk missing or cut short, naming it, and holds nothing', async () => {
    await checkpointed();
    const head = (await loadShard(kv, changes, 0)).head.head;
    if (head === undefined) throw new Error('no checkpoint');
    const chunk = keys.checkpointChunk(0, head.gen, 1);
    const text = (await kv.get(chunk))?.string() ?? '';

    await kv.put(chunk, text.slice(0, text.length / 2));
    const cut = await loadShard(kv, changes, 0).catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(StateCorruptError);
    expect((cut as StateCorruptError).message).toMatch(`${chunk} is not valid JSON`);

    await kv.purge(chunk);
    const next = store(5);
    const missing = await next.claim(0, 5).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StateCorruptError);
    expect((missing as StateCorruptError).message).toContain(`lacks chunk 2 of ${head.chunks}`);
    expect(next.shards()).toEqual([]);
  });

  it("takes in a former holder's write acknowledged just before the claim, then refuses the next", async () => {
    await fresh();
    const old = store(3);
    await old.claim(0, 3);
    await old.save(durableState(fleet(10)));

    // The former holder's write lands between the takeover's reading and its claim.
    const racing = Object.create(changes) as ShardLog;
    let raced = false;
    racing.append = async (...args) => {
      if (!raced) {
        raced = true;
        await old.save(durableState([...fleet(10).slice(1), durableNode('n-0', 'isolated')]));
      }
      return changes.append(...args);
    };
    const next = store(5, racing);
    const { nodes } = await next.claim(0, 5);
    expect(raced).toBe(true);
    expect(nodes.find((n) => n.id === 'n-0')?.state).toBe('isolated');

    const refused = await old
      .save(durableState([durableNode('n-0', 'online'), ...fleet(10).slice(1)]))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect((await loadShard(kv, changes, 0)).nodes.get('n-0')?.node.state).toBe('isolated');
  });

  it('writes on after an append whose acknowledgement was lost, and holds the shard', async () => {
    await fresh();
    const lossy = Object.create(changes) as ShardLog;
    let lose = false;
    lossy.append = async (...args) => {
      const seq = await changes.append(...args);
      if (lose) {
        lose = false;
        throw new Error('TimeoutError: timeout');
      }
      return seq;
    };
    const holder = store(3, lossy);
    await holder.claim(0, 3);
    lose = true;
    const timedOut = await holder.save(durableState(fleet(3))).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(StorageError);
    await holder.save(durableState(fleet(3, 'isolated')));
    expect(holder.shards()).toEqual([0]);
    const stored = (await loadShard(kv, changes, 0)).nodes;
    expect([...stored.values()].map((s) => s.node.state)).toEqual([
      'isolated',
      'isolated',
      'isolated',
    ]);
  });

  it('takes over a shard an older release kept one key per node, once', async () => {
    await fresh();
    for (const node of fleet(50)) {
      const stored: StoredNode = { node, protected: false, pinned: node.id === 'n-7', fence: 2 };
      await kv.put(keys.node(0, node.id), JSON.stringify(stored));
    }
    const { nodes, overrides } = await store(3).claim(0, 3);
    expect(nodes).toHaveLength(50);
    expect(overrides.pinned).toEqual(['n-7']);
    expect(Object.keys((await changes.last(0))?.nodes ?? {})).toHaveLength(50);
    // Moved: the per-node keys go, and the next takeover reads the stream alone.
    await eventually(
      async () => (await kv.get(keys.node(0, 'n-49')))?.operation,
      (operation) => operation !== 'PUT',
    );
    const again = await store(5).claim(0, 5);
    expect(again.nodes).toHaveLength(50);
    expect(again.overrides.pinned).toEqual(['n-7']);
  });
});
