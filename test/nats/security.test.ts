import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import {
  buckets,
  changesStream,
  connectNats,
  createNatsAgent,
  type DistributedSupervisor,
  keys,
  type NatsAgent,
  natsServerConfig,
  shardOf,
  startDistributedSupervisor,
  subjects,
  supervisorUser,
} from '../../src/nats/index.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

// The production accounts (`wyneos nats-config`) on a real nats-server: node-1's credentials try
// everything a compromised node could. The same attempts against an open server show what the
// accounts take away: there, each of them goes through.

// Ids with `.` and `:`: escaped in subjects, percent-encoded in URLs, kept apart all the same.
const one = 'site.a:node-1';
const two = 'site.a:node-2';
const logger = pino({ level: process.env.WYNEOS_TEST_LOG ?? 'silent' });
const shards = 2;
const secretDir = mkdtempSync(join(tmpdir(), 'wyneos-nats-secret-'));
const secretFile = join(secretDir, 'secret');
writeFileSync(secretFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });

/** What node-1's credentials achieved: 'refused' (by the server) or what happened instead. */
interface Outcomes {
  /** A heartbeat on node-2's subject. */
  readonly asOtherNode: string;
  /** A registration on node-2's subject. */
  readonly registerAsOther: string;
  readonly putKey: string;
  readonly deleteKey: string;
  /** node-2's shard's last change-stream entry read. */
  readonly readOtherKey: string;
  /** A shard lease taken over. */
  readonly putLease: string;
  readonly publishAudit: string;
  /** An entry appended to node-2's shard's change stream. */
  readonly writeState: string;
  /** A request to a shard's holder, as a supervisor forwards one (a read of node-2). */
  readonly askHolder: string;
}

describe.skipIf(natsServerPath === undefined)('nats: accounts and subject permissions', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });
  afterAll(() => rmSync(secretDir, { recursive: true, force: true }));

  // The documented steps: `wyneos nats-config` prints the accounts and each one's URL.
  async function natsConfig(...args: string[]): Promise<string> {
    const lines: string[] = [];
    await createProgram((line) => lines.push(line), 'none').parseAsync([
      ...['node', 'wyneos', 'nats-config', '--secret-file', secretFile, ...args],
    ]);
    return lines.join('\n');
  }

  async function fleet(secured: boolean) {
    // The shipped template, with the accounts `wyneos nats-config` prints beside it.
    const server: NatsServer = await startNatsServer(
      secured
        ? {
            'server.conf': readFileSync(
              new URL('../../examples/nats/server.conf', import.meta.url),
              'utf8',
            ),
            'wyneos-accounts.conf': await natsConfig('--node', one, '--node', two),
          }
        : undefined,
    );
    cleanup.push(() => server.stop());
    const urls: Record<string, string> = {};
    for (const [user, flags] of [
      [supervisorUser, ['--supervisor']],
      [one, ['--node', one]],
    ] as const) {
      urls[user] = secured ? await natsConfig('--url', server.url, ...flags) : server.url;
    }
    const as = (user: string) => urls[user] as string;
    const sup: DistributedSupervisor = await startDistributedSupervisor({
      ...{ nats: as(supervisorUser), shards, supervisorId: 's-1', logger },
      ...{ tickMs: 200, heartbeatTimeoutMs: 5000, leaseMs: 2000 },
    });
    cleanup.push(() => sup.stop());
    await eventually(
      () => sup.shards().length,
      (n) => n === shards,
    );
    const agent: NatsAgent = createNatsAgent({
      ...{ nats: as(one), nodeId: one, intervalMs: 200, logger },
      load: () => ({ load: 0.2, metrics: {} }),
    });
    agent.start();
    cleanup.push(() => agent.stop());
    // node-2 is registered and silent: whatever changes it came from node-1's credentials.
    sup.supervisor.register({ id: two });
    await sup.supervisor.durable();

    // The node's heartbeats arrive, and the supervisor reaches it end to end: an isolation is
    // applied, and the node clears it from its outbox (the one key it may write).
    await eventually(
      () => sup.supervisor.node(one)?.seq ?? 0,
      (seq) => seq > 0,
    );
    sup.supervisor.isolate(one, 'security test');
    await eventually(
      () => agent.state,
      (state) => state === 'isolated',
    );
    const outbox = await new Kvm(sup.connection).open(buckets.state);
    await eventually(
      async () => {
        const left: string[] = [];
        for await (const key of await outbox.keys(keys.nodeDecisions(one))) left.push(key);
        return left;
      },
      (left) => left.length === 0,
    );

    const hostile = await connectNats(as(one), { inboxPrefix: subjects.inbox(one) });
    cleanup.push(() => hostile.close());
    return { sup, agent, as, outcomes: await attempts(sup, hostile) };
  }

  async function attempts(sup: DistributedSupervisor, nc: NatsConnection): Promise<Outcomes> {
    const violations: string[] = [];
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'error') violations.push(String(status.error));
      }
    })();
    const refusedOr = (what: string) => (error: unknown) =>
      /permissions violation/i.test(String(error)) ? 'refused' : `${what}: ${String(error)}`;

    nc.publish(
      subjects.heartbeat(shardOf(two, shards), two),
      JSON.stringify({ nodeId: two, epoch: 1, seq: 1, load: 0.99 }),
    );
    // Refused by the server (it says so to the sender), or taken by the supervisor.
    const asOtherNode = (await eventually(
      () =>
        violations.some((v) => v.includes('wyneos.hb.'))
          ? 'refused'
          : sup.supervisor.node(two)?.load === 0.99
            ? 'accepted'
            : undefined,
      (outcome) => outcome !== undefined,
    )) as string;
    // A body naming node-2 on node-1's own subject reaches the supervisor, which refuses it as
    // impersonation: node-2 is untouched either way.
    nc.publish(
      subjects.heartbeat(shardOf(one, shards), one),
      JSON.stringify({ nodeId: two, epoch: 1, seq: 2, load: 0.98 }),
    );
    await eventually(
      () => sup.supervisor.explainTrust(one).entries.map((e) => e.kind),
      (kinds) => kinds.includes('impersonation'),
    );
    expect(sup.supervisor.node(two)?.load).not.toBe(0.98);

    const registerAsOther = await nc
      .request(subjects.register(shardOf(two, shards), two), JSON.stringify({ id: two }), {
        timeout: 2000,
      })
      .then(() => 'answered', refusedOr('register'));

    const kv = await new Kvm(jetstream(nc, { timeout: 2000 })).open(buckets.state, {
      allow_direct: true,
    });
    const forged = keys.decision(two, 'forged');
    const action = {
      kind: 'action',
      action: { id: 'forged', type: 'isolate', reason: 'x', at: 1 },
    };
    const putKey = await kv
      .put(forged, JSON.stringify(action))
      .then(() => 'written', refusedOr('put'));
    const deleteKey = await kv.delete(forged).then(() => 'deleted', refusedOr('delete'));
    // Node state is in the shards' change streams (and checkpoints, in the state bucket).
    const readOtherKey = await nc
      .request(
        `$JS.API.STREAM.MSG.GET.${changesStream}`,
        JSON.stringify({ last_by_subj: subjects.changes(shardOf(two, shards)) }),
        { timeout: 2000 },
      )
      .then(
        (reply) => (reply.json<{ message?: unknown }>().message ? 'read' : 'missing'),
        refusedOr('get'),
      );
    const leases = await new Kvm(jetstream(nc, { timeout: 2000 })).open(buckets.leases);
    const putLease = await leases
      .put(keys.lease(0), '{}')
      .then(() => 'written', refusedOr('lease'));
    const publishAudit = await jetstream(nc, { timeout: 2000 })
      .publish(subjects.audit('s-1'), '{}')
      .then(() => 'stored', refusedOr('audit'));
    // Only supervisors ask each other: a node may neither read another node's live view this way
    // nor send a command as if forwarded by a supervisor.
    const askHolder = await nc
      .request(subjects.ask(shardOf(two, shards)), JSON.stringify({ op: 'node', nodeId: two }), {
        timeout: 2000,
      })
      .then(
        (reply) => (reply.json<{ ok?: unknown }>().ok ? 'answered' : 'failed'),
        refusedOr('ask'),
      );
    // Last: on an open server this entry fences the supervisor off its shard.
    const writeState = await jetstream(nc, { timeout: 2000 })
      .publish(subjects.changes(shardOf(two, shards)), '{"fence":0,"nodes":{}}')
      .then(() => 'stored', refusedOr('state'));
    return {
      asOtherNode,
      registerAsOther,
      putKey,
      deleteKey,
      readOtherKey,
      putLease,
      publishAudit,
      writeState,
      askHolder,
    };
  }

  it('lets a node send only as itself and write nothing but its own outbox', async () => {
    const { sup, agent, as, outcomes } = await fleet(true);
    expect(outcomes).toEqual({
      asOtherNode: 'refused',
      registerAsOther: 'refused',
      putKey: 'refused',
      deleteKey: 'refused',
      readOtherKey: 'refused',
      putLease: 'refused',
      publishAudit: 'refused',
      writeState: 'refused',
      askHolder: 'refused',
    });
    expect(sup.supervisor.node(two)?.load).not.toBe(0.99);
    // An agent started as node-2 with node-1's URL: refused, and it says why rather than
    // blaming the supervisors.
    const lines: string[] = [];
    const misconfigured = createNatsAgent({
      ...{ nats: as(one), nodeId: two, intervalMs: 200 },
      logger: pino({ level: 'warn' }, { write: (line: string) => lines.push(line) }),
    });
    misconfigured.start();
    cleanup.push(() => misconfigured.stop());
    const refusal = await eventually(
      () => lines.map((line) => JSON.parse(line) as { level: number; msg: string }),
      (logged) => logged.length > 0,
    );
    expect(refusal[0]).toMatchObject({
      level: 50,
      msg: expect.stringContaining(`refused this node's credentials`),
    });
    expect(sup.supervisor.node(two)?.seq ?? 0).toBe(0);
    // The supervisor still works: it reinstates the node, which applies it.
    sup.supervisor.reinstate(one, 'security test');
    await eventually(
      () => agent.state,
      (state) => state === 'online',
    );
  });

  it('on an open server, lets any connection do all of it (what the accounts prevent)', async () => {
    const { sup, outcomes } = await fleet(false);
    expect(outcomes).toEqual({
      asOtherNode: 'accepted',
      registerAsOther: 'answered',
      putKey: 'written',
      deleteKey: 'deleted',
      readOtherKey: 'read',
      putLease: 'written',
      publishAudit: 'stored',
      writeState: 'stored',
      askHolder: 'answered',
    });
    expect(sup.supervisor.node(two)?.load).toBe(0.99);
  });
});

describe('nats: the accounts file and credentials', () => {
  it('refuses a node list it cannot write safely, saying which node', () => {
    const secret = 'x'.repeat(32);
    for (const [nodes, problem] of [
      [['a', 'a'], /a is listed twice/],
      [[supervisorUser], /the supervisors' user/],
      [['a b'], /expected a node id, got "a b"/],
      [['*'], /expected a node id/],
    ] as const) {
      expect(() => natsServerConfig({ secret, nodes })).toThrow(
        expect.objectContaining({
          code: 'WYNEOS_ERR_INVALID_ARGUMENT',
          message: expect.stringMatching(problem),
        }),
      );
    }
  });

  it('takes credentials from the URL and never shows the password', async () => {
    const error = await connectNats('nats://n:hunter2-secret@127.0.0.1:1', {
      timeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WYNEOS_ERR_NATS' });
    expect(String((error as Error).message)).toContain('nats://127.0.0.1:1');
    expect(String((error as Error).message)).not.toContain('hunter2');
  });
});
