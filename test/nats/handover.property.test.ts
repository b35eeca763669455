import { Kvm } from '@nats-io/kv';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type DurableNode, LeaseLostError } from 'wyneos';
import { buckets, KvStateStore, loadShard } from '../../src/nats/index.js';
import { durableNode, durableState, freshChanges } from './durable-fixtures.js';
import { natsPerFile } from './per-test.js';
import { natsServerPath } from './server.js';

// Three supervisors pass one shard around while the former holders, unaware, keep writing
// and checkpoints come and go: whatever the order, what is stored is what the current holder
// saved last, every takeover reads exactly that, and a former holder's write never lands.

const log = pino({ level: 'silent' });
const ids = ['a', 'b', 'c', 'd'];
const states = ['online', 'offline', 'isolated'] as const;

type Step =
  | { readonly kind: 'save'; readonly by: number; readonly nodes: DurableNode[] }
  | { readonly kind: 'takeover'; readonly by: number }
  | { readonly kind: 'checkpointed' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('save' as const),
    by: fc.integer({ min: 0, max: 2 }),
    nodes: fc
      .subarray(ids)
      .chain((some) =>
        fc
          .tuple(...some.map(() => fc.constantFrom(...states)))
          .map((picked) => some.map((id, i) => durableNode(id, picked[i] ?? 'online'))),
      ),
  }),
  fc.record({ kind: fc.constant('takeover' as const), by: fc.integer({ min: 0, max: 2 }) }),
  fc.constant({ kind: 'checkpointed' as const }),
);

function view(nodes: Iterable<DurableNode>): Record<string, string> {
  return Object.fromEntries([...nodes].map((n) => [n.id, n.state]).sort());
}

describe.skipIf(natsServerPath === undefined)('nats: a shard passed around', () => {
  const nats = natsPerFile();
  let run = 0;

  it('stores what the holder saved last, and nothing a former holder wrote after', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const kv = await new Kvm(nats.nc).create(`${buckets.state}-prop-${run++}`, { history: 1 });
        const changes = await freshChanges(nats.nc);
        let fence = 1;
        const fences = [0, 0, 0];
        const stores = fences.map(
          (_, i) =>
            new KvStateStore(kv, 1, {
              changes,
              shards: 1,
              windowMs: 3000,
              log,
              // Each believes in its lease, as after a pause that hid its expiry.
              checkpointRecords: 2,
              fenceOf: () => fences[i] || undefined,
              fenced: () => {},
            }),
        );
        const holder = { now: 0 };
        fences[0] = fence;
        await stores[0]?.claim(0, fence);
        let model: Record<string, string> = {};
        for (const next of steps) {
          if (next.kind === 'checkpointed') {
            await Promise.all(stores.map((s) => s.checkpointed()));
          } else if (next.kind === 'takeover') {
            fence++;
            fences[next.by] = fence;
            holder.now = next.by;
            const { nodes } = await (stores[next.by] as KvStateStore).claim(0, fence);
            expect(view(nodes)).toEqual(model);
          } else {
            const saving = (stores[next.by] as KvStateStore).save(durableState(next.nodes));
            if (next.by === holder.now) {
              await saving;
              model = view(next.nodes);
            } else {
              // Refused, or nothing to write (it let the shard go after an earlier refusal).
              await saving.catch((error: unknown) => {
                expect(error).toBeInstanceOf(LeaseLostError);
              });
            }
          }
        }
        await Promise.all(stores.map((s) => s.checkpointed()));
        const stored = await loadShard(kv, changes, 0);
        expect(view([...stored.nodes.values()].map((s) => s.node))).toEqual(model);
      }),
      { numRuns: 50 },
    );
  }, 120_000);
});
