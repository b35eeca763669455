import { Kvm } from '@nats-io/kv';
import { type Logger, pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { startDistributedWith } from '../../src/nats/distributed.js';
import {
  buckets,
  type EnforcementMessage,
  KvStateStore,
  keys,
  ShardLog,
  subjects,
} from '../../src/nats/index.js';
import { captureLogger } from '../helpers.js';
import { durableNode, durableState } from './durable-fixtures.js';
import { natsPerTest } from './per-test.js';
import { eventually, natsServerPath } from './server.js';

// A decision can be durable and still untold: its holder wrote the isolation, sent the request,
// and died before the node answered (the request lost on the way, or the process killed between
// the write and the request). The next holder loaded the node isolated and told it nothing, so
// the node went on serving. Untold actions are now stored with the node's record, and whoever
// takes the shard over tells the node of them; the holder that let the shard go does not.

const log = pino({ level: 'silent' });

describe.skipIf(natsServerPath === undefined)(
  'nats: a durable decision its holder never told',
  () => {
    const nats = natsPerTest();

    // Ticks on a simulated clock; lease scans every tickMs of real time, requests time out after it.
    function start(supervisorId: string, tickMs = 60_000, logger: Logger = log) {
      return startDistributedWith(
        {
          nats: nats.server.url,
          supervisorId,
          shards: 1,
          tickMs,
          leaseMs: 60_000,
          heartbeatTimeoutMs: 600_000,
          logger,
        },
        { clock: new SimulatedClock() },
      );
    }

    /** `first` holds the one shard and has isolated n-1, whose agent lost the request. */
    async function isolatedUntold(tickMs?: number, logger?: Logger) {
      const first = await start('first', tickMs, logger);
      nats.started.push(first);
      await eventually(
        () => first.shards(),
        (held) => held.length === 1,
      );
      first.supervisor.register({ id: 'n-1', labels: {} });
      await first.supervisor.durable();
      const proposed: string[] = [];
      first.supervisor.actions$.subscribe((action) => {
        if (action.status === 'proposed') proposed.push(action.id);
      });
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
      const second = await start('second');
      nats.started.push(second);
      await eventually(
        () => second.shards(),
        (held) => held.length === 1,
      );
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
      const leases = await new Kvm(nats.nc).open(buckets.leases);
      const fence = await leases.put(keys.lease(0), 'other');
      const other = new KvStateStore(await new Kvm(nats.nc).open(buckets.state), 2, {
        changes: await ShardLog.open(nats.nc),
        shards: 1,
        windowMs: 3000,
        log,
        fenceOf: () => fence,
        fenced: () => {},
      });
      await other.claim(0, fence);
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
