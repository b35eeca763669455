import { parentPort, workerData } from 'node:worker_threads';
import { Kvm } from '@nats-io/kv';
import { thrownMessage } from '../show.js';
import { connectNats } from './connection.js';
import { LeaseRenewer } from './lease-renewer.js';
import { LeaseSlots, monotonicNow } from './lease-slots.js';
import type { FromMain, LeaseWorkerData, ToMain } from './worker-renewals.js';

// The lease worker: renews the main thread's leases on a thread of its own, over a connection
// of its own, so a main thread saturated by heartbeats and ticks does not let them lapse. It
// stops renewing when the main thread has not shown it is alive for `stallMs`: a hung
// supervisor must not keep its shards from the others.

const { url, name, bucket, owner, ttlMs, stallMs, buffer } = workerData as LeaseWorkerData;
if (parentPort === null) throw new Error('the lease worker runs in a worker thread');
const port = parentPort;
const tell = (message: ToMain) => port.postMessage(message);
const slots = new LeaseSlots(buffer);

async function run(): Promise<void> {
  const nc = await connectNats(url, {
    name,
    whileUnreachable: (problem, retryInMs) =>
      tell({ type: 'log', level: 'warn', fields: { retryInMs }, message: problem }),
  });
  const kv = await new Kvm(nc).open(bucket);
  let stalled = false;
  // What this thread last wrote (or was told of) for each shard it renews.
  const written = new Map<number, number>();
  const renewer = new LeaseRenewer(kv, {
    owner,
    ttlMs,
    now: monotonicNow,
    renewed(shard, revision, at) {
      slots.renewed(shard, revision, at);
      written.set(shard, at);
    },
    renewing() {
      const silentMs = monotonicNow() - slots.aliveAt();
      const alive = silentMs < stallMs;
      if (!alive && !stalled) {
        tell({
          type: 'log',
          level: 'error',
          fields: { silentMs, stallMs },
          message: 'the main thread has stalled: lease renewals stop until it answers again',
        });
      }
      stalled = !alive;
      return alive;
    },
  });
  port.on('message', (message: FromMain) => {
    switch (message.type) {
      case 'hold':
        renewer.hold(message.shard, message.fence, message.sentAt, message.revision);
        written.set(message.shard, message.sentAt);
        return;
      case 'drop':
        // The main thread cleared the shard's slot itself when it dropped it.
        void renewer.drop(message.shard).then((revision) => {
          tell({ type: 'dropped', id: message.id, revision });
        });
        return;
      case 'stop':
        void renewer
          .stop()
          .then(() => nc.close())
          .finally(() => port.close());
    }
  });
  renewer.start((shard, fence, why) => {
    const at = written.get(shard);
    if (at !== undefined) slots.clearIf(shard, at);
    written.delete(shard);
    tell({ type: 'lost', shard, fence, why });
  });
  tell({ type: 'ready' });
}

run().catch((error: unknown) => tell({ type: 'failed', error: thrownMessage(error) }));
