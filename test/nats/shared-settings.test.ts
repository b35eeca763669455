import { Kvm } from '@nats-io/kv';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { maxLoad, parsePolicy } from 'wyneos';
import { SimulatedClock } from 'xstate';
import { startDistributedWith } from '../../src/nats/distributed.js';
import { buckets, type DistributedSupervisor, shardOf } from '../../src/nats/index.js';
import { SimulatedNodes } from './fleet.js';
import { natsPerTest, startSharing } from './per-test.js';
import { eventually, natsServerPath } from './server.js';

const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const shards = 4;
// Nothing ticks: the simulated clock stays put, so whatever reaches a supervisor reached it
// before its next tick.
const timing = { tickMs: 60_000, heartbeatTimeoutMs: 90_000, leaseMs: 2000 };

const policyData = (version: string, max: number) => ({
  version,
  rules: [{ use: 'maxLoad', params: { max }, enforcement: 'isolate' }],
});

describe.skipIf(natsServerPath === undefined)('nats: one policy for the fleet', () => {
  const nats = natsPerTest();
  const { started } = nats;

  async function twoSupervisors() {
    const clock = new SimulatedClock();
    const options = {
      shards,
      logger,
      policy: parsePolicy(policyData('fleet-1', 0.9)),
      ...timing,
    };
    const sups = await startSharing(nats, ['a', 'b'], options, clock);
    return sups as [DistributedSupervisor, DistributedSupervisor];
  }

  /** A node registered in a shard that `sup` holds. */
  async function nodeOn(sup: DistributedSupervisor, prefix: string): Promise<string> {
    const id = Array.from({ length: 100 }, (_, i) => `${prefix}-${i}`).find((n) =>
      sup.shards().includes(shardOf(n, shards)),
    ) as string;
    await new SimulatedNodes(nats.nc, [id], shards).register();
    return id;
  }

  const settings = async () => new Kvm(nats.nc).open(buckets.settings);

  it('puts a policy set on one supervisor in force on every other before its next tick', async () => {
    const [a, b] = await twoSupervisors();
    b.supervisor.setPolicy(parsePolicy(policyData('fleet-2', 0.5)));
    await b.supervisor.durable();
    await eventually(
      () => a.supervisor.policy().version,
      (version) => version === 'fleet-2',
    );
    expect(b.supervisor.policy().version).toBe('fleet-2');
    const rule = a.supervisor.policy().rules[0];
    expect(rule?.id).toBe('max-load');
  });

  it('applies the fleet policy to a supervisor started later with another', async () => {
    const [a] = await twoSupervisors();
    const late = await startDistributedWith(
      {
        nats: nats.server.url,
        shards,
        logger,
        supervisorId: 'late',
        policy: parsePolicy(policyData('local-9', 0.1)),
        ...timing,
      },
      { clock: new SimulatedClock() },
    );
    started.push(late);
    expect(late.supervisor.policy().version).toBe('fleet-1');
    expect(a.supervisor.policy().version).toBe('fleet-1');
  });

  it('shares exemptions, protect and pin, and revocations made on any supervisor', async () => {
    const [a, b] = await twoSupervisors();
    const onA = await nodeOn(a, 'n');
    // Made on b, for a node that a holds.
    const exemption = b.supervisor.exempt({
      ruleId: 'max-load',
      nodeId: onA,
      until: 3_600_000,
      reason: 'load test',
    });
    b.supervisor.protect(onA);
    b.supervisor.pin(onA);
    b.supervisor.revoke('licence-7', 'leaked');
    await b.supervisor.durable();
    await eventually(
      () => ({
        rules: a.supervisor.explain(onA),
        overrides: a.supervisor.overrides(),
        revocations: a.supervisor.revocations(),
      }),
      ({ rules, overrides, revocations }) =>
        rules[0]?.message === 'exempted: load test' &&
        overrides.protected.includes(onA) &&
        overrides.pinned.includes(onA) &&
        revocations.some((r) => r.licenceId === 'licence-7'),
    );
    expect(a.supervisor.exemptions().map((e) => e.id)).toEqual([exemption.id]);
    // And lifted from a: b's view follows.
    a.supervisor.protect(onA, false);
    await a.supervisor.durable();
    expect(a.supervisor.overrides().protected).toEqual([]);
    expect(b.supervisor.revocations().map((r) => r.licenceId)).toEqual(['licence-7']);
  });

  it("forgets a deregistered node's protect and pin fleet-wide", async () => {
    const [a, b] = await twoSupervisors();
    const onA = await nodeOn(a, 'gone');
    b.supervisor.protect(onA);
    b.supervisor.pin(onA);
    await b.supervisor.durable();
    await eventually(
      () => a.supervisor.overrides().pinned,
      (pinned) => pinned.includes(onA),
    );
    a.supervisor.deregister(onA);
    await a.supervisor.durable();
    await a.supervisor.tick();
    const kv = await settings();
    await eventually(
      async () => (await kv.get('overrides'))?.json<Overrides>() ?? empty,
      (o) => !o.protected.includes(onA) && !o.pinned.includes(onA),
    );
  });

  it('refuses bad input with its usual error and writes nothing', async () => {
    const [a, b] = await twoSupervisors();
    const onA = await nodeOn(a, 'n');
    const kv = await settings();
    const before = await Promise.all(
      ['policy', 'exemptions', 'overrides', 'revocations'].map(
        async (key) => (await kv.get(key))?.revision ?? 0,
      ),
    );
    expect(() =>
      b.supervisor.exempt({ ruleId: 'no-such-rule', nodeId: onA, until: 10_000, reason: 'x' }),
    ).toThrow(expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_EXEMPTION' }));
    expect(() => b.supervisor.revoke('licence-1', '')).toThrow(
      expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_ARGUMENT' }),
    );
    // Rules in code cannot be shared: refused rather than applied on one supervisor alone.
    expect(() => b.supervisor.setPolicy({ version: 'code', rules: [maxLoad(0.2)] })).toThrow(
      expect.objectContaining({ code: 'WYNEOS_ERR_INVALID_ARGUMENT' }),
    );
    const heldByB = Array.from({ length: 100 }, (_, i) => `ghost-${i}`).find((n) =>
      b.shards().includes(shardOf(n, shards)),
    ) as string;
    expect(() => b.supervisor.protect(heldByB)).toThrow(
      expect.objectContaining({ code: 'WYNEOS_ERR_UNKNOWN_NODE' }),
    );
    // A node of a's shards that the fleet does not have: known only once KV is asked.
    const ghostOnA = Array.from({ length: 100 }, (_, i) => `ghost-${i}`).find((n) =>
      a.shards().includes(shardOf(n, shards)),
    ) as string;
    b.supervisor.pin(ghostOnA);
    await expect(b.supervisor.durable()).rejects.toMatchObject({
      code: 'WYNEOS_ERR_UNKNOWN_NODE',
    });
    const after = await Promise.all(
      ['policy', 'exemptions', 'overrides', 'revocations'].map(
        async (key) => (await kv.get(key))?.revision ?? 0,
      ),
    );
    expect(after).toEqual(before);
    expect(a.supervisor.policy().version).toBe('fleet-1');
    expect(a.supervisor.exemptions()).toEqual([]);
  });

  it('lets no supervisor silently overwrite another: concurrent policies conflict, concurrent exemptions both land', async () => {
    const [a, b] = await twoSupervisors();
    const onA = await nodeOn(a, 'n');
    // Both based on fleet-1: the second write to land meets a revision it did not read.
    a.supervisor.setPolicy(parsePolicy(policyData('from-a', 0.8)));
    b.supervisor.setPolicy(parsePolicy(policyData('from-b', 0.7)));
    const outcomes = await Promise.allSettled([a.supervisor.durable(), b.supervisor.durable()]);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({
      code: 'WYNEOS_ERR_SETTINGS_CONFLICT',
      key: 'policy',
    });
    const winner = outcomes[0]?.status === 'fulfilled' ? 'from-a' : 'from-b';
    await eventually(
      () => [a.supervisor.policy().version, b.supervisor.policy().version],
      (versions) => versions.every((v) => v === winner),
    );
    // Additive changes are made again on the newer value: both exemptions hold everywhere.
    const fromA = a.supervisor.exempt({ ruleId: 'max-load', nodeId: onA, until: 9e6, reason: 'a' });
    const fromB = b.supervisor.exempt({ ruleId: 'max-load', nodeId: onA, until: 9e6, reason: 'b' });
    await Promise.all([a.supervisor.durable(), b.supervisor.durable()]);
    const ids = [fromA.id, fromB.id].sort();
    await eventually(
      () =>
        [a, b].map((s) =>
          s.supervisor
            .exemptions()
            .map((e) => e.id)
            .sort(),
        ),
      (lists) => lists.every((list) => JSON.stringify(list) === JSON.stringify(ids)),
    );
  });

  it('loses no override when both supervisors change them at once: each ends as one of its writers left it, the same everywhere', async () => {
    const [a, b] = await twoSupervisors();
    const nodes = [await nodeOn(a, 'x'), await nodeOn(a, 'y'), await nodeOn(b, 'z')];
    const kv = await settings();
    const change = fc.record({
      on: fc.constantFrom(a, b),
      node: fc.constantFrom(...nodes),
      kind: fc.constantFrom('protected' as const, 'pinned' as const),
      value: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 8 }), async (changes) => {
        const entry = await kv.get('overrides');
        const before = entry?.operation === 'PUT' ? entry.json<Overrides>() : empty;
        // All issued in one turn: each supervisor's writes race the other's.
        for (const { on, node, kind, value } of changes) {
          if (kind === 'protected') on.supervisor.protect(node, value);
          else on.supervisor.pin(node, value);
        }
        await Promise.all([a.supervisor.durable(), b.supervisor.durable()]);
        const after = (await kv.get('overrides'))?.json<Overrides>() ?? empty;
        for (const node of nodes) {
          for (const kind of ['protected', 'pinned'] as const) {
            const asked = changes.filter((c) => c.node === node && c.kind === kind);
            const now = after[kind].includes(node);
            if (asked.length === 0) expect(now).toBe(before[kind].includes(node));
            else expect(asked.map((c) => c.value)).toContain(now);
          }
        }
        // Every supervisor applies what KV holds for the nodes it holds.
        await eventually(
          () =>
            [a, b].every((sup) =>
              (['protected', 'pinned'] as const).every((kind) => {
                const mine = nodes.filter((n) => sup.supervisor.node(n) !== undefined);
                const want = mine.filter((n) => after[kind].includes(n)).sort();
                return (
                  JSON.stringify([...sup.supervisor.overrides()[kind]].sort()) ===
                  JSON.stringify(want)
                );
              }),
            ),
          (agreed) => agreed,
        );
      }),
      { numRuns: 15 },
    );
  });
});

interface Overrides {
  readonly protected: readonly string[];
  readonly pinned: readonly string[];
}
const empty: Overrides = { protected: [], pinned: [] };
