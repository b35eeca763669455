import { type KV, Kvm } from '@nats-io/kv';
import { afterEach, describe, expect, it } from 'vitest';
import { buckets, keys, ShardLeases } from '../../src/nats/index.js';
import { WorkerRenewals } from '../../src/nats/worker-renewals.js';
import { captureLogger, silentLogger } from '../helpers.js';
import { until } from '../processes.js';
import { natsPerFile } from './per-test.js';
import { natsServerPath } from './server.js';

// At 400,000 nodes on two cores a supervisor's ticks and heartbeats held its event loop for
// seconds at a time: lease renewals, timers on that loop, fired late, 26 leases lapsed, and
// the shards' new holders decided again what the old ones had decided and not yet written.
// Renewals now run on a worker thread. What is tested is a real thread starved by a real
// stall, so these tests block the main thread for real time (a busy loop), not a simulated
// clock: that stall is the fault.

const ttlMs = 1500;

/** Holds the main thread, as a tick over a huge shard or a flood of heartbeats does. */
function stallMainThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: nothing else on this thread runs
  }
}

describe.skipIf(natsServerPath === undefined)('nats: lease renewals on a worker thread', () => {
  const nats = natsPerFile();
  let bucketCount = 0;
  const running: ShardLeases[] = [];
  afterEach(async () => {
    for (const leases of running.splice(0)) await leases.stop().catch(() => {});
  });

  async function holding(
    renewals: 'worker' | 'in-process',
    options: { stallMs?: number; log?: ReturnType<typeof captureLogger>['logger'] } = {},
  ) {
    const bucket = `${buckets.leases}-worker-${bucketCount++}`;
    const kv: KV = await new Kvm(nats.nc).create(bucket, { history: 1, ttl: ttlMs });
    const log = options.log ?? silentLogger;
    const lost: number[] = [];
    const worker =
      renewals === 'worker'
        ? new WorkerRenewals({
            url: nats.server.url,
            bucket,
            owner: 'x',
            shards: 2,
            ttlMs,
            log,
            ...(options.stallMs === undefined ? {} : { stallMs: options.stallMs }),
          })
        : undefined;
    const leases = new ShardLeases(
      kv,
      {
        owner: 'x',
        shards: 2,
        ttlMs,
        scanMs: 60_000,
        log,
        ...(worker === undefined ? {} : { renewals: worker }),
      },
      { acquired: async () => {}, releasing: async () => {}, lost: (shard) => lost.push(shard) },
    );
    running.push(leases);
    await leases.start();
    await leases.scanNow();
    expect(leases.shards()).toEqual([0, 1]);
    return { kv, leases, lost, worker };
  }

  it('keeps the leases of a main thread held for twice their length', async () => {
    const { leases, lost } = await holding('worker');
    stallMainThread(2 * ttlMs);
    expect(leases.fence(0)).toBeDefined();
    expect(await leases.holder(0)).toBe('x');
    expect(await leases.holder(1)).toBe('x');
    expect(lost).toEqual([]);
  });

  it('(renewed on the main thread, the same stall loses them)', async () => {
    const { leases } = await holding('in-process');
    stallMainThread(2 * ttlMs);
    expect(leases.fence(0)).toBeUndefined();
    expect(
      await until(
        () => leases.holder(0),
        (holder) => holder === undefined,
      ),
    ).toBeUndefined();
  });

  it('stops renewing for a main thread that stalls past stallMs, and says so', async () => {
    const { logger, lines } = captureLogger('warn');
    const { leases, lost } = await holding('worker', { stallMs: 500, log: logger });
    stallMainThread(3 * ttlMs);
    expect(leases.fence(0)).toBeUndefined();
    expect(leases.fence(1)).toBeUndefined();
    // The worker's next renewal finds the expired lease gone and reports both lost.
    await until(
      () => [...lost].sort(),
      (shards) => shards.length === 2,
    );
    expect(leases.shards()).toEqual([]);
    expect(lines.some((line) => /main thread has stalled/.test(String(line.msg)))).toBe(true);
  });

  it('starts a worker that died again, and its leases stay held', async () => {
    const { logger, lines } = captureLogger('warn');
    const { kv, leases, lost, worker } = await holding('worker', { log: logger });
    const before = (await kv.get(keys.lease(0)))?.revision ?? 0;
    await worker?.terminateWorker();
    // Renewed again by the new worker, past the lease length since the old one died.
    const startedAt = Date.now();
    await until(
      async () => ({
        revision: (await kv.get(keys.lease(0)))?.revision ?? 0,
        ms: Date.now() - startedAt,
      }),
      ({ revision, ms }) => revision > before + 2 && ms > ttlMs,
    );
    expect(leases.fence(0)).toBeDefined();
    expect(await leases.holder(0)).toBe('x');
    expect(lost).toEqual([]);
    expect(
      lines.some((line) => /lease worker exited; starting it again/.test(String(line.msg))),
    ).toBe(true);
  });
});
