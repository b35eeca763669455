import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineRule } from 'wyneos';
import { SimulatedClock } from 'wyneos/testing';
import { createShardHost } from '../src/supervisor/create-supervisor.js';
import { type NodeBook, nodeBookKey } from '../src/supervisor/node-book.js';
import { httpFleet, silentLogger } from './helpers.js';

// A node leaves through the node book alone: after a deregistration or a shard handed over,
// no component still holds anything for it (they had drifted: a release kept trust, trends,
// licences and held actions). A node registered after another left may take its slot in the
// telemetry columns: it must show none of the other node's numbers.

const ids = ['a', 'b', 'c', 'd'];
const op = fc.oneof(
  fc.record({ kind: fc.constant('register' as const), id: fc.constantFrom(...ids) }),
  fc.record({
    kind: fc.constant('heartbeat' as const),
    id: fc.constantFrom(...ids),
    load: fc.constantFrom(0.1, 0.5, 0.95),
    stale: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(1000, 4000, 12_000) }),
  fc.record({ kind: fc.constant('isolate' as const), id: fc.constantFrom(...ids) }),
  fc.record({ kind: fc.constant('protect' as const), id: fc.constantFrom(...ids) }),
  fc.record({ kind: fc.constant('deregister' as const), id: fc.constantFrom(...ids) }),
  fc.record({ kind: fc.constant('release' as const), id: fc.constantFrom(...ids) }),
);

const failing = defineRule({
  id: 'cool',
  description: 'load under 0.9',
  enforcement: 'isolate',
  for: 2,
  evaluate: (n) => n.load < 0.9,
});

describe('node book', () => {
  it('leaves nothing of a node in any component after it is deregistered or released (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60, size: 'max' }), (ops) => {
        const clock = new SimulatedClock();
        const sup = createShardHost({
          logger: silentLogger,
          clock,
          rules: [failing],
          predictive: {},
          overload: { high: 0.9, low: 0.5, ticks: 2 },
          flapping: { maxTransitions: 2, windowMs: 60_000 },
          safety: { maxIsolatedFraction: 0.5 },
        });
        const book = sup[nodeBookKey] as NodeBook;
        sup.start();
        const seqs = new Map<string, number>();
        // The last seq each node had accepted: a node registered into a freed slot starts with
        // none, whatever the node before it in that slot had sent.
        const acceptedSeq = new Map<string, number>();
        for (const step of ops) {
          const known = sup.node('id' in step ? step.id : '') !== undefined;
          switch (step.kind) {
            case 'register': {
              if (known) break;
              sup.register({ id: step.id });
              const { load, seq, lastHeartbeatAt, metrics } = sup.node(step.id) ?? {};
              expect({ load, seq, lastHeartbeatAt, metrics }, `fresh ${step.id}`).toEqual({
                load: 0,
                seq: undefined,
                lastHeartbeatAt: undefined,
                metrics: {},
              });
              break;
            }
            case 'heartbeat': {
              if (!known) break;
              const seq = (seqs.get(step.id) ?? 0) + (step.stale ? 0 : 1);
              seqs.set(step.id, seq);
              const metrics = { [step.id]: seq };
              const [result] = sup.heartbeats([{ nodeId: step.id, seq, load: step.load, metrics }]);
              const taken = seq > (acceptedSeq.get(step.id) ?? -1);
              expect(result?.ok, `heartbeat ${step.id} seq ${seq}`).toBe(taken);
              if (taken) acceptedSeq.set(step.id, seq);
              const node = sup.node(step.id);
              expect(node?.seq).toBe(acceptedSeq.get(step.id));
              if (taken) {
                expect(node?.load).toBe(step.load);
                expect(node?.lastHeartbeatAt).toBe(clock.now());
                expect(node?.metrics).toEqual(metrics);
              }
              break;
            }
            case 'tick':
              for (let t = 0; t < step.ms; t += 1000) clock.increment(1000);
              break;
            case 'isolate':
              if (known) sup.isolate(step.id);
              break;
            case 'protect':
              if (known) sup.protect(step.id);
              break;
            case 'deregister':
            case 'release':
              if (!known) break;
              if (step.kind === 'deregister') sup.deregister(step.id);
              else sup.release([step.id]);
              seqs.delete(step.id);
              acceptedSeq.delete(step.id);
              expect(book.holding(step.id), `${step.kind} ${step.id}`).toEqual([]);
              break;
          }
        }
        for (const id of ids) {
          if (sup.node(id) === undefined) expect(book.holding(id)).toEqual([]);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("forgets a node in an HTTP plugin's feed however it leaves, and lets go of the feed on close", async () => {
    const fleet = await httpFleet();
    const book = (fleet.sup as unknown as { [nodeBookKey]: NodeBook })[nodeBookKey];
    const feeds = () => Object.keys(book.sizes()).filter((k) => k.startsWith('http-feed-'));
    fleet.sup.register({ id: 'n' });
    fleet.sup.isolate('n', 'for the feed');
    expect(book.holding('n')).toEqual(expect.arrayContaining(feeds()));
    expect(feeds()).toHaveLength(1);
    // Deregistered in code, not by the DELETE route: the feed forgets it all the same.
    fleet.sup.deregister('n');
    expect(book.holding('n')).toEqual([]);
    await fleet.app.close();
    expect(feeds()).toEqual([]);
  });

  it('returns the heap to where it started after registering and deregistering a fleet again and again', async () => {
    // WYNEOS_HEAP_NODES=100000 WYNEOS_HEAP_ROUNDS=10 is the size (npm run test:heap).
    const size = Number(process.env.WYNEOS_HEAP_NODES ?? 20_000);
    const rounds = Number(process.env.WYNEOS_HEAP_ROUNDS ?? 4);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sup = createShardHost({ logger: silentLogger, clock: new SimulatedClock() });
    sup.start();
    const batch = Array.from({ length: size }, (_, i) => ({ id: `n${i}` }));
    const round = () => {
      for (let i = 0; i < size; i += 1000) sup.registerMany(batch.slice(i, i + 1000));
      for (const { id } of batch) sup.deregister(id);
    };
    round(); // the first round warms up what stays (compiled code, pooled objects)
    gc();
    const start = process.memoryUsage().heapUsed;
    for (let r = 0; r < rounds; r++) round();
    gc();
    const end = process.memoryUsage().heapUsed;
    expect(sup[nodeBookKey].sizes()).toEqual(
      Object.fromEntries(Object.keys(sup[nodeBookKey].sizes()).map((k) => [k, 0])),
    );
    expect(end / start).toBeLessThan(1.1);
    await sup.stop();
  }, 300_000);
});
