/**
 * fast-check arbitraries of wyneos inputs, from one node id to a whole simulated scenario, for
 * property tests of a policy or of code that embeds a supervisor.
 *
 * @module
 */
import fc from 'fast-check';
import {
  allowedLabelValues,
  type Enforcement,
  heartbeatFresh,
  maxLoad,
  metricBelow,
  minVersion,
  type Policy,
  type Rule,
  requiredLabels,
  type Severity,
} from '../governance/index.js';
import type { Fault, SimulatedFleetOptions } from '../simulation/index.js';
import type { Heartbeat, NodeRegistration } from '../telemetry/index.js';

/** A node id the supervisor accepts: `node-` and a number below `maxNodes`. */
export function nodeId(maxNodes = 1000): fc.Arbitrary<string> {
  return fc.nat({ max: maxNodes - 1 }).map((n) => `node-${n}`);
}

/** A semantic version `major.minor.patch`, each part below 10. */
export function version(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.nat({ max: 9 }), fc.nat({ max: 9 }), fc.nat({ max: 9 }))
    .map((parts) => parts.join('.'));
}

/** A valid registration: an id, labels among `region`/`zone`/`tier`, maybe a version. */
export function node(options: { readonly maxNodes?: number } = {}): fc.Arbitrary<NodeRegistration> {
  return fc.record(
    {
      id: nodeId(options.maxNodes),
      labels: fc.record(
        {
          region: fc.constantFrom('eu', 'us', 'ap'),
          zone: fc.constantFrom('a', 'b', 'c'),
          tier: fc.constantFrom('prod', 'staging'),
        },
        { requiredKeys: [] },
      ),
      version: version(),
    },
    { requiredKeys: ['id'] },
  );
}

/** A valid heartbeat: seq a whole number, load in [0, 1], maybe a few finite metrics. */
export function heartbeat(
  options: { readonly nodeId?: fc.Arbitrary<string> } = {},
): fc.Arbitrary<Heartbeat> {
  return fc.record(
    {
      nodeId: options.nodeId ?? nodeId(),
      seq: fc.nat(),
      load: fc.double({ min: 0, max: 1, noNaN: true }),
      metrics: fc.dictionary(
        fc.constantFrom('mem', 'disk', 'queue', 'gpu'),
        fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
        { maxKeys: 4 },
      ),
    },
    { requiredKeys: ['nodeId', 'seq', 'load'] },
  );
}

const severity = fc.constantFrom<Severity>('low', 'medium', 'high', 'critical');
const enforcement = fc.constantFrom<Enforcement>('audit', 'warn', 'reduce-load', 'isolate');

/** One built-in rule with arbitrary parameters, severity, enforcement and `for`. */
export function builtinRule(): fc.Arbitrary<Rule> {
  const overrides = fc.record({ severity, enforcement, for: fc.integer({ min: 1, max: 5 }) });
  return fc.oneof(
    fc
      .tuple(fc.double({ min: 0.5, max: 1, noNaN: true }), overrides)
      .map(([max, o]) => maxLoad(max, o)),
    fc
      .tuple(fc.double({ min: 0.5, max: 1, noNaN: true }), overrides)
      .map(([max, o]) => metricBelow('mem', max, o)),
    fc.tuple(version(), overrides).map(([min, o]) => minVersion(min, o)),
    fc
      .tuple(fc.subarray(['region', 'zone', 'tier'], { minLength: 1 }), overrides)
      .map(([keys, o]) => requiredLabels(keys, o)),
    fc
      .tuple(fc.subarray(['eu', 'us', 'ap'], { minLength: 1 }), overrides)
      .map(([values, o]) => allowedLabelValues('region', values, o)),
    fc
      .tuple(fc.integer({ min: 1000, max: 120_000 }), overrides)
      .map(([ms, o]) => heartbeatFresh(ms, o)),
  );
}

/** A policy of up to `maxRules` built-in rules with distinct ids. */
export function policy(options: { readonly maxRules?: number } = {}): fc.Arbitrary<Policy> {
  return fc
    .uniqueArray(builtinRule(), { maxLength: options.maxRules ?? 4, selector: (rule) => rule.id })
    .map((rules) => ({
      version: `generated-${rules.map((r) => r.id).join('+') || 'empty'}`,
      rules,
    }));
}

/** One fault of any kind, starting within `durationMs`, hitting a few nodes or a share of them. */
export function fault(options: { readonly durationMs: number }): fc.Arbitrary<Fault> {
  const { durationMs } = options;
  const at = fc.integer({ min: 0, max: Math.max(0, durationMs - 1) });
  const length = fc.integer({ min: 1000, max: Math.max(1000, durationMs) });
  const targets = fc.oneof(
    fc.record({ nodes: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ fraction: fc.double({ min: 0, max: 0.8, noNaN: true }) }),
  );
  return fc.oneof(
    fc
      .tuple(at, targets, fc.option(length, { nil: undefined }))
      .map(
        ([start, t, d]): Fault =>
          d === undefined
            ? { kind: 'crash', at: start, ...t }
            : { kind: 'crash', at: start, durationMs: d, ...t },
      ),
    fc.tuple(at, targets).map(([start, t]): Fault => ({ kind: 'recover', at: start, ...t })),
    fc
      .tuple(at, targets, length)
      .map(([start, t, d]): Fault => ({ kind: 'partition', at: start, durationMs: d, ...t })),
    fc.tuple(at, targets, length, fc.double({ min: 0.5, max: 1, noNaN: true })).map(
      ([start, t, d, peak]): Fault => ({
        kind: 'overload',
        at: start,
        durationMs: d,
        peak,
        ...t,
      }),
    ),
    fc
      .tuple(
        at,
        targets,
        length,
        fc.integer({ min: 500, max: 20_000 }),
        fc.integer({ min: 500, max: 20_000 }),
      )
      .map(
        ([start, t, d, upMs, downMs]): Fault => ({
          kind: 'flap',
          at: start,
          durationMs: d,
          upMs,
          downMs,
          ...t,
        }),
      ),
    fc
      .tuple(
        at,
        targets,
        length,
        fc.integer({ min: 0, max: 5000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
      )
      .map(
        ([start, t, d, maxDelayMs, lossRate]): Fault => ({
          kind: 'jitter',
          at: start,
          durationMs: d,
          maxDelayMs,
          lossRate,
          ...t,
        }),
      ),
    fc.tuple(at, targets, length, fc.double({ min: 1, max: 10, noNaN: true })).map(
      ([start, t, d, factor]): Fault => ({
        kind: 'slowNode',
        at: start,
        durationMs: d,
        factor,
        ...t,
      }),
    ),
    fc
      .tuple(at, targets, length)
      .map(([start, t, d]): Fault => ({ kind: 'bad-heartbeat', at: start, durationMs: d, ...t })),
    fc
      .tuple(at, targets, version())
      .map(([start, t, v]): Fault => ({ kind: 'non-compliant', at: start, version: v, ...t })),
    fc
      .tuple(at, fc.integer({ min: 1, max: 15_000 }))
      .map(([start, d]): Fault => ({ kind: 'pause', at: start, durationMs: d })),
  );
}

/** A fault schedule: up to `maxFaults` faults in order of their start. */
export function failureSequence(options: {
  readonly durationMs: number;
  readonly maxFaults?: number;
}): fc.Arbitrary<Fault[]> {
  return fc
    .array(fault(options), { maxLength: options.maxFaults ?? 8 })
    .map((faults) => [...faults].sort((a, b) => a.at - b.at));
}

/** A whole scenario for `simulate`: fleet size, seed, policy, faults and run length. */
export function scenario(
  options: {
    readonly maxNodes?: number;
    readonly maxDurationMs?: number;
    readonly maxFaults?: number;
  } = {},
): fc.Arbitrary<SimulatedFleetOptions & { readonly durationMs: number }> {
  const maxDurationMs = options.maxDurationMs ?? 120_000;
  return fc.integer({ min: 10_000, max: Math.max(10_000, maxDurationMs) }).chain((durationMs) =>
    fc.record({
      nodes: fc.integer({ min: 1, max: options.maxNodes ?? 50 }),
      seed: fc.integer(),
      durationMs: fc.constant(durationMs),
      faults: failureSequence({ durationMs, maxFaults: options.maxFaults ?? 6 }),
      supervisor: policy().map((p) => ({ policy: p })),
    }),
  );
}
