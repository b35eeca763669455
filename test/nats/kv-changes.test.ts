import { type KV, Kvm } from '@nats-io/kv';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DurableNode } from 'wyneos';
import { KvStateStore, keys, ShardLog } from '../../src/nats/index.js';
import { durableState } from './durable-fixtures.js';
import { natsPerFile } from './per-test.js';
import { natsServerPath } from './server.js';

const log = pino({ level: 'silent' });

function node(id: string, state: DurableNode['state'] = 'online'): DurableNode {
  return {
    id,
    labels: {},
    registeredAt: 1,
    state,
    since: 5,
    reason: state,
    isolations: 0,
    reinstateAt: null,
    probationUntil: null,
    escalation: 0,
    seq: 1,
  };
}

/** The KV, with every write it is asked for listed as `<operation> <key>`. */
function counted(kv: KV): { kv: KV; writes: string[] } {
  const writes: string[] = [];
  const wrapped = new Proxy(kv, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (key: string, ...rest: unknown[]) => {
        if (['create', 'update', 'put', 'purge', 'delete'].includes(String(name))) {
          writes.push(`${String(name)} ${key}`);
        }
        return value.call(target, key, ...rest);
      };
    },
  });
  return { kv: wrapped, writes };
}

/** The change streams, with the node ids of every append listed. */
function appends(log: ShardLog): string[][] {
  const seen: string[][] = [];
  const append = log.append.bind(log);
  log.append = (shard, after, fence, records, claim) => {
    const list = [...records];
    if (!claim) seen.push(list.map(([id]) => id));
    return append(shard, after, fence, list, claim);
  };
  return seen;
}

describe.skipIf(natsServerPath === undefined)('nats: a save of changes writes what changed', () => {
  const nats = natsPerFile();

  it('writes exactly the changed nodes and the counts they move, and a takeover reads them all', async () => {
    const kv = await new Kvm(nats.nc).create('changes', { history: 1 });
    const { kv: wrapped, writes } = counted(kv);
    const changes = await ShardLog.open(nats.nc);
    const appended = appends(changes);
    const options = { shards: 1, windowMs: 3000, log, fenced: () => {}, changes };
    const store = new KvStateStore(wrapped, 1, { ...options, fenceOf: () => 7 });
    await store.claim(0, 7);
    const fleet = Array.from({ length: 100 }, (_, i) => node(`n-${i}`));
    writes.length = 0;
    appended.length = 0;

    // A registration batch: its nodes and the shard's counts.
    await store.saveChanges(
      durableState(fleet.slice(0, 90)),
      new Set(fleet.slice(0, 90).map((n) => n.id)),
    );
    await store.saveChanges(
      durableState(fleet.slice(90)),
      new Set(fleet.slice(90).map((n) => n.id)),
    );
    // One entry per save in the shard's change stream, and the counts in KV.
    expect(appended.map((ids) => ids.length)).toEqual([90, 10]);
    expect(writes).toEqual([`put ${keys.counts(0)}`, `put ${keys.counts(0)}`]);

    // One node of the hundred goes offline: that node and the counts, nothing else.
    writes.length = 0;
    appended.length = 0;
    await store.saveChanges(durableState([node('n-42', 'offline')]), new Set(['n-42']));
    expect(appended).toEqual([['n-42']]);
    expect(writes).toEqual([`put ${keys.counts(0)}`]);
    // A change back and forth before the save writes nothing.
    writes.length = 0;
    appended.length = 0;
    await store.saveChanges(durableState([node('n-7')]), new Set(['n-7']));
    expect([writes, appended]).toEqual([[], []]);
    // A deregistration appends its deletion.
    await store.saveChanges(durableState([]), new Set(['n-8']));
    expect(appended).toEqual([['n-8']]);
    expect(writes).toEqual([`put ${keys.counts(0)}`]);
    expect((await kv.get(keys.counts(0)))?.json()).toEqual({
      nodes: 99,
      isolated: 0,
      offline: 1,
      recentOffline: [5],
    });

    const next = new KvStateStore(kv, 2, { ...options, fenceOf: () => 9 });
    const { nodes } = await next.claim(0, 9);
    expect(nodes).toHaveLength(99);
    expect(nodes.find((n) => n.id === 'n-42')?.state).toBe('offline');
    expect(nodes.find((n) => n.id === 'n-8')).toBeUndefined();
  });
});
