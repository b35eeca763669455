import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type EnforcementMessage, keys, StreamAuditLog, subjects } from '../../src/nats/index.js';
import { durableNode, durableState, takeShardOver } from './durable-fixtures.js';
import { natsPerTest, startOneShard } from './per-test.js';
import { eventually, natsServerPath } from './server.js';

// A supervisor whose lease lapsed kept an isolation it had not written; another supervisor
// wrote the shard meanwhile, so the kept change is dropped. The isolate action (in the audit
// stream, never told) must never reach the node, not even when the same supervisor takes the
// shard back, and the audit trail must say it was abandoned (issue 20's "decided twice").

const _log = pino({ level: 'silent' });

describe.skipIf(natsServerPath === undefined)('nats: decisions a lapsed lease dropped', () => {
  const nats = natsPerTest();

  /**
   * Supervisor `first` holds the one shard with node n-1. Another supervisor takes the shard
   * over (its lease and a claim) and writes n-1 online; `first` had isolated n-1 in between,
   * and that write was refused. Ticks, scans and renewals happen only when the test asks.
   */
  async function lapsed() {
    const first = await startOneShard(nats, 'first', { register: 'n-1' });
    const { proposed } = first;
    // The node, as its agent: it answers each action it is told of.
    const told: string[] = [];
    nats.nc.subscribe(subjects.enforce('n-1'), {
      callback: (_, msg) => {
        const message = msg.json<EnforcementMessage>();
        if (message.kind !== 'action') return;
        told.push(message.action.id);
        msg.respond(JSON.stringify({ ok: true }));
      },
    });
    await nats.nc.flush();

    // The lease lapsed (first never saw it: its renewals are 20 s apart) and another took it.
    const { leases, other } = await takeShardOver(nats.nc);
    expect(first.supervisor.isolate('n-1', 'decided by first').state).toBe('isolated');
    await expect(first.supervisor.durable()).rejects.toMatchObject({
      code: 'WYNEOS_ERR_LEASE_LOST',
    });
    expect(first.shards()).toEqual([]);
    const [isolation] = proposed;
    await other.save(durableState([durableNode('n-1', 'online')]));

    const abandoned = async () => {
      const reader = await StreamAuditLog.open(
        jetstream(nats.nc),
        await jetstreamManager(nats.nc),
        'reader',
      );
      const records = await reader.read();
      await reader.close();
      return records.filter((r) => r.type === 'abandoned');
    };
    /** `first` isolates n-1 anew and waits until the node is told: everything before it was tried. */
    const isolateAgain = async () => {
      first.supervisor.tick();
      await first.supervisor.durable();
      expect(first.supervisor.node('n-1')?.state).toBe('online');
      first.supervisor.isolate('n-1', 'decided again');
      await first.supervisor.durable();
      const again = proposed.at(-1);
      expect(again).not.toBe(isolation);
      await eventually(
        () => told,
        (ids) => ids.includes(again as string),
      );
      return again;
    };
    return { first, leases, told, isolation, abandoned, isolateAgain };
  }

  it('audits the untold isolation as abandoned once the other holder is seen, and never sends it', async () => {
    const { first, leases, told, isolation, abandoned, isolateAgain } = await lapsed();
    // The scan finds the shard held by another: the kept isolation will never be written.
    await first.scan();
    first.supervisor.tick();
    await first.supervisor.durable();
    expect(await abandoned()).toEqual([
      expect.objectContaining({
        type: 'abandoned',
        nodeId: 'n-1',
        data: {
          shard: 0,
          actions: [isolation],
          reason: expect.stringMatching(/lease lapsed.*another supervisor holds the shard/),
        },
      }),
    ]);

    // The shard comes back to first, which holds n-1 as the other left it.
    await leases.delete(keys.lease(0));
    await first.scan();
    expect(first.shards()).toEqual([0]);
    expect(told).toEqual([await isolateAgain()]);
  });

  it('does not send the old isolation when the same supervisor takes the shard back', async () => {
    const { first, leases, told, isolation, abandoned, isolateAgain } = await lapsed();
    // The other lets go before first's scan sees it: first's claim finds its writes and drops
    // the kept isolation, and first holds the shard (and may tell its nodes) again.
    await leases.delete(keys.lease(0));
    await first.scan();
    expect(first.shards()).toEqual([0]);
    expect(told).toEqual([await isolateAgain()]);
    expect((await abandoned()).map((r) => [r.nodeId, r.data.actions])).toEqual([
      ['n-1', [isolation]],
    ]);
  });
});
