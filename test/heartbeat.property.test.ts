import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WyneosError } from 'wyneos';
import { simulatedSupervisor } from './helpers.js';

const nodeIds = ['n0', 'n1', 'n2'];

/** A string with a lone surrogate in it: what a JSON `"\ud800"` escape decodes to. */
const withLoneSurrogate = fc
  .tuple(
    fc.string({ maxLength: 4 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
    fc.string({ maxLength: 4 }),
  )
  .map(([before, lone, after]) => before + lone + after);

/** Whether every surrogate in `text` is half of a pair, checked unit by unit. */
function wellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

const validHeartbeat = fc.record(
  {
    nodeId: fc.constantFrom(...nodeIds),
    // Small seqs, so stale and duplicate ones come up often.
    seq: fc.nat({ max: 30 }),
    load: fc.double({ min: 0, max: 1, noNaN: true }),
    metrics: fc.dictionary(
      // Names beyond ASCII too: emoji (surrogate pairs) are well-formed.
      fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('😀', 'é', 'gpu-温度')),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      { maxKeys: 4 },
    ),
  },
  { requiredKeys: ['nodeId', 'seq', 'load'] },
);

const badValues = {
  nodeId: fc.oneof(
    fc.constantFrom('ghost', '', 'n0 ', 'n0\ud800'),
    withLoneSurrogate,
    fc.anything(),
  ),
  seq: fc.oneof(
    fc.integer({ min: -5, max: -1 }),
    fc.double({ noInteger: true }),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, '3', null),
  ),
  load: fc.oneof(
    fc.double({ min: 1, max: 1e9, minExcluded: true, noNaN: true }),
    fc.double({ max: 0, maxExcluded: true, noNaN: true }),
    fc.constantFrom(Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, '0.5', null),
  ),
  metrics: fc.oneof(
    fc.dictionary(
      fc.string({ maxLength: 3 }),
      fc.oneof(fc.double(), fc.string(), fc.constant(null)),
      {
        minKeys: 1,
      },
    ),
    fc.constantFrom(null, 'x', 3, [1, 2]),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.double({ noNaN: true }), {
      minKeys: 65,
      maxKeys: 70,
    }),
    fc.dictionary(withLoneSurrogate, fc.double({ noNaN: true, noDefaultInfinity: true }), {
      minKeys: 1,
      maxKeys: 3,
    }),
  ),
};

/** A valid heartbeat with one thing wrong: a bad field, a missing field or an extra one. */
const corruptedHeartbeat = fc
  .tuple(
    validHeartbeat,
    fc.constantFrom('nodeId', 'seq', 'load', 'metrics', 'missing', 'extra'),
    fc.constantFrom('nodeId', 'seq', 'load'),
  )
  .chain(([hb, what, required]) => {
    if (what === 'missing') {
      const { [required]: _dropped, ...rest } = hb;
      return fc.constant(rest);
    }
    if (what === 'extra') return fc.anything().map((value) => ({ ...hb, extra: value }));
    return badValues[what].map((value) => ({ ...hb, [what]: value }));
  });

const heartbeatInput = fc.oneof(
  { arbitrary: validHeartbeat, weight: 3 },
  { arbitrary: corruptedHeartbeat, weight: 3 },
  { arbitrary: fc.anything(), weight: 1 },
);

/** The oracle: what a valid heartbeat is, written independently of the schema. */
function shouldAccept(input: unknown, lastSeq: Map<string, number>): boolean {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const keys = Object.keys(input);
  if (keys.some((k) => !['nodeId', 'seq', 'load', 'metrics'].includes(k))) return false;
  const { nodeId, seq, load, metrics } = input as Record<string, unknown>;
  if (typeof nodeId !== 'string' || !nodeIds.includes(nodeId)) return false;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return false;
  if (typeof load !== 'number' || !Number.isFinite(load) || load < 0 || load > 1) return false;
  if (!keys.includes('metrics')) return seq > (lastSeq.get(nodeId) ?? -1);
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return false;
  const entries = Object.entries(metrics);
  if (entries.length > 64) return false;
  if (
    entries.some(
      ([k, v]) =>
        k.length === 0 ||
        k.length > 128 ||
        !wellFormed(k) ||
        typeof v !== 'number' ||
        !Number.isFinite(v),
    )
  ) {
    return false;
  }
  return seq > (lastSeq.get(nodeId) ?? -1);
}

describe('heartbeat properties', () => {
  it('a rejected heartbeat changes nothing and throws only a typed error', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(heartbeatInput, fc.nat({ max: 1500 })), { maxLength: 40 }),
        (steps) => {
          const { sup, advance } = simulatedSupervisor();
          sup.registerMany(nodeIds.map((id) => ({ id })));
          const lastSeq = new Map<string, number>();
          for (const [input, waitMs] of steps) {
            const before = structuredClone(sup.nodes());
            const accept = shouldAccept(input, lastSeq);
            let error: unknown;
            try {
              sup.heartbeat(input as never);
            } catch (err) {
              error = err;
            }
            if (accept) {
              expect(error).toBeUndefined();
              const { nodeId, seq, load } = input as { nodeId: string; seq: number; load: number };
              lastSeq.set(nodeId, seq);
              expect(sup.node(nodeId)).toMatchObject({ seq, load });
            } else {
              expect(error).toBeInstanceOf(WyneosError);
              expect((error as WyneosError).code).toMatch(
                /^WYNEOS_ERR_(INVALID_HEARTBEAT|UNKNOWN_NODE|STALE_HEARTBEAT)$/,
              );
              expect(sup.nodes()).toEqual(before);
            }
            advance(waitMs);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a node that beats every tick under overload.low is never offline or overloaded', () => {
    const scenario = fc
      .record({
        tickMs: fc.integer({ min: 100, max: 5000 }),
        timeoutTicks: fc.double({ min: 1.01, max: 4, noNaN: true }),
        low: fc.double({ min: 0.05, max: 0.8, noNaN: true }),
        gap: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        overloadTicks: fc.integer({ min: 1, max: 5 }),
      })
      .chain((o) =>
        fc.record({
          options: fc.constant(o),
          intervals: fc.array(
            fc.record({
              // When in the interval the good node beats, and with what load.
              offset: fc.double({ min: 0, max: 0.999, noNaN: true }),
              load: fc.double({ min: 0, max: o.low, noNaN: true, maxExcluded: true }),
              // What the rest of the fleet does meanwhile.
              noisyLoad: fc.double({ min: 0, max: 1, noNaN: true }),
              noisyBeats: fc.boolean(),
              isolateNoisy: fc.boolean(),
            }),
            { minLength: 1, maxLength: 30 },
          ),
        }),
      );

    fc.assert(
      fc.property(scenario, ({ options, intervals }) => {
        const { tickMs } = options;
        const { sup, advance } = simulatedSupervisor({
          tickMs,
          heartbeatTimeoutMs: Math.ceil(tickMs * options.timeoutTicks),
          overload: {
            low: options.low,
            high: Math.min(1, options.low + options.gap),
            ticks: options.overloadTicks,
          },
        });
        sup.registerMany([{ id: 'good' }, { id: 'noisy' }]);
        let seq = 0;
        for (const step of intervals) {
          const offsetMs = Math.floor(step.offset * tickMs);
          advance(offsetMs);
          sup.heartbeat({ nodeId: 'good', seq: ++seq, load: step.load });
          if (step.noisyBeats) sup.heartbeat({ nodeId: 'noisy', seq, load: step.noisyLoad });
          if (step.isolateNoisy) sup.isolate('noisy');
          else sup.reinstate('noisy');
          advance(tickMs - offsetMs);
          const state = sup.node('good')?.state;
          expect(state).toBe('online');
        }
      }),
      { numRuns: 200 },
    );
  });
});
