import { Kvm } from '@nats-io/kv';
import { type Logger, pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buckets, type EnforcementMessage, keys, subjects } from '../../src/nats/index.js';
import { captureLogger } from '../helpers.js';
import { durableNode, durableState, takeShardOver } from './durable-fixtures.js';
import { natsPerTest, startOneShard } from './per-test.js';
import { eventually, natsServerPath } from './server.js';

// A decision can be durable and still untold: its holder wrote the isolation, sent the request,
// and died before the node answered (the request lost on the way, or the process killed between
// the write and the request). The next holder loaded the node isolated and told it nothing, so
// the node went on serving. Untold actions are now stored with the node's record, and whoever
// takes the shard over tells the node of them; the holder that let the shard go does not.

const _log = pino({ level: 'silent' });

describe.skipIf(natsServerPath === undefined)(
  'nats: a durable decision its holder never told',
  () => {
    const nats = natsPerTest();

    /** `first` holds the one shard and has isolated n-1, whose agent lost the request. */
    async function isolatedUntold(tickMs?: number, logger?: Logger) {
      const first = await startOneShard(nats, 'first', {
        register: 'n-1',
        ...(tickMs === undefined ? {} : { tickMs }),
        ...(logger === undefined ? {} : { logger }),
      });
      const { proposed } = first;
      // The node, as its agent; requests are lost on the way while `losing`.
      const node = { losing: true, lost: 0, told: [] as string[] };
      nats.nc.subscribe(subjects.enforce('n-1'), {
        callback: (_, msg) => {
          const message = msg.json<EnforcementMessage>();
          if (message.kind !== 'action') return;
          if (node.losing) {
            node.lost++;
            return;
          }
          node.told.push(message.action.id);
          msg.respond(JSON.stringify({ ok: true }));
        },
      });
      await nats.nc.flush();
      first.supervisor.isolate('n-1', 'decided by first');
      await first.supervisor.durable();
      await eventually(
        () => node.lost,
        (lost) => lost === 1,
      );
      return { first, node, proposed };
    }

    it('is told by the supervisor that takes the shard over, once', async () => {
      const { first, node, proposed } = await isolatedUntold();
      // First dies before it asks again; its lease is gone (as after its TTL) and another starts.
      await first.crash();
      node.losing = false;
      await (await new Kvm(nats.nc).open(buckets.leases)).delete(keys.lease(0));
      const second = await startOneShard(nats, 'second');
      expect(second.supervisor.node('n-1')?.state).toBe('isolated');
      await eventually(
        () => node.told,
        (told) => told.length > 0,
      );
      expect(node.told).toEqual(proposed);
    });

    it('is not told by its holder once it takes the shard back after another changed the node', async () => {
      // Requests time out after 1 s: first asks again after its next tick.
      const { logger, lines } = captureLogger('warn');
      const { first, node, proposed } = await isolatedUntold(1000, logger);
      const [isolation] = proposed;
      await eventually(
        () => lines.map((line) => String(line.msg)),
        (msgs) => msgs.some((msg) => msg.startsWith('enforcement not delivered')),
      );
      // First's lease lapses; another takes the shard and writes n-1 online.
      const { leases, other } = await takeShardOver(nats.nc);
      await other.save(durableState([durableNode('n-1', 'online')]));
      // First's next write (a registration) is refused, so it lets the shard go; then it
      // takes it back.
      first.supervisor.register({ id: 'n-2', labels: {} });
      await expect(first.supervisor.durable()).rejects.toMatchObject({
        code: 'WYNEOS_ERR_LEASE_LOST',
      });
      expect(first.shards()).toEqual([]);
      await leases.delete(keys.lease(0));
      await eventually(
        () => first.shards(),
        (held) => held.length === 1,
      );
      expect(first.supervisor.node('n-1')?.state).toBe('online');

      // The node hears again: first's next decision reaches it, the old isolation never does.
      node.losing = false;
      first.supervisor.tick();
      await first.supervisor.durable();
      first.supervisor.isolate('n-1', 'decided again');
      await first.supervisor.durable();
      const again = proposed.at(-1) as string;
      expect(again).not.toBe(isolation);
      await eventually(
        () => node.told,
        (told) => told.includes(again),
      );
      expect(node.told).toEqual([again]);
    });
  },
);
