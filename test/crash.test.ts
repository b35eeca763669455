import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuditRecord, type DurableState, type NodeSnapshot, queryAudit } from 'wyneos';
import { nodeToken, operatorToken } from 'wyneos/http';
import { SeededRandom } from 'wyneos/testing';
import { freePort, killAll, type Process, until, wyneos } from './processes.js';

afterAll(killAll);

const kills = 20;

/** A port free now, so every restart of the server listens where the agents expect it. */

describe('crash safety', () => {
  it(`loses no isolation, applies no action twice and keeps a complete audit log through ${kills} SIGKILLs`, async () => {
    const random = new SeededRandom(20261126);
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-crash-'));
    const stateDir = join(dir, 'state');
    const secret = 'crash test secret, long enough, fine';
    await writeFile(join(dir, 'secret'), secret);
    await writeFile(join(dir, 'load'), '0.3\n');
    // Nodes labelled tier=bad are isolated by governance; the backoff is long enough that no
    // automatic reinstatement happens during the test, so every isolation must hold.
    await writeFile(
      join(dir, 'policy.yaml'),
      'version: crash-1\nrules:\n  - use: allowedLabelValues\n    params: { label: tier, values: [good] }\n    enforcement: isolate\n',
    );
    await writeFile(join(dir, 'config.yaml'), 'supervisor:\n  escalation: { baseMs: 10m }\n');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const key = Buffer.from(secret);
    const operator = { authorization: `Bearer ${operatorToken(key)}` };

    const serve = () =>
      wyneos([
        'serve',
        ...['--port', String(port), '--secret-file', join(dir, 'secret'), '--state-dir', stateDir],
        ...['--policy', join(dir, 'policy.yaml'), '--config', join(dir, 'config.yaml')],
        ...['--tick', '50ms', '--heartbeat-timeout', '2s', '--log-level', 'warn'],
      ]);
    const listening = (proc: Process) =>
      until(
        () =>
          fetch(`${url}/healthz`).then(
            (r) => r.status,
            () => 0,
          ),
        (status) => status === 200 && proc.child.exitCode === null,
      );
    const nodes = async () => {
      const response = await fetch(`${url}/v1/nodes`, { headers: operator });
      return ((await response.json()) as { nodes: NodeSnapshot[] }).nodes;
    };
    const command = (id: string, verb: 'isolate' | 'reinstate') =>
      fetch(`${url}/v1/nodes/${id}/${verb}`, {
        method: 'POST',
        headers: { ...operator, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: `crash test: ${verb}` }),
      }).then(
        (r) => r.status,
        () => 0,
      );

    let server = serve();
    await listening(server);
    const ids = ['good-1', 'good-2', 'good-3', 'bad-1'];
    for (const id of ids) {
      await writeFile(join(dir, `${id}.token`), nodeToken(key, id));
      wyneos([
        'agent',
        ...['--server', url, '--id', id, '--token-file', join(dir, `${id}.token`)],
        ...[
          '--label',
          `tier=${id.startsWith('bad') ? 'bad' : 'good'}`,
          '--load-file',
          join(dir, 'load'),
        ],
        ...['--interval', '100ms', '--max-backoff', '200ms', '--log-level', 'warn'],
      ]);
    }
    await until(nodes, (list) => list.length === ids.length);

    // What the operator was told: every answered command must survive any crash after it.
    const acknowledged = new Map<string, 'isolated' | 'online'>();
    const checkRestored = async (round: number) => {
      const list = await nodes();
      expect(list.map((n) => n.id).sort(), `round ${round}`).toEqual([...ids].sort());
      for (const [id, state] of acknowledged) {
        const node = list.find((n) => n.id === id);
        if (state === 'isolated')
          expect(node?.state, `${id} after round ${round}`).toBe('isolated');
        else expect(node?.state, `${id} after round ${round}`).not.toBe('isolated');
      }
      // Every isolation the audit log recorded, and no later record undid, holds.
      const audit = queryAudit(stateDir, {}, { onNotice: () => {} }).reverse();
      const lastTransition = new Map<string, AuditRecord>();
      for (const record of audit)
        if (record.type === 'transition' && record.nodeId)
          lastTransition.set(record.nodeId, record);
      for (const [id, record] of lastTransition) {
        if (record.data.to === 'isolated') {
          expect(list.find((n) => n.id === id)?.state, `${id}: audit says isolated`).toBe(
            'isolated',
          );
        }
      }
    };

    // What the kill left: no decision in the state without its audit record (the log is
    // written first). Each node's current state since its last transition, and each of its
    // isolations, must be in the log; the lock of the dead server is taken over at restart.
    const checkAuditCoversState = async (round: number) => {
      const state = JSON.parse(
        await readFile(join(stateDir, 'state.json'), 'utf8'),
      ) as DurableState;
      const audit = queryAudit(stateDir, {}, { onNotice: () => {} });
      for (const node of state.nodes) {
        const mine = audit.filter((r) => r.nodeId === node.id);
        const where = `${node.id} in the state after kill ${round}`;
        expect(
          mine.some((r) => r.type === 'admission' && r.data.admitted === true),
          `${where}: admission`,
        ).toBe(true);
        if (node.state !== 'online') {
          expect(
            mine.some(
              (r) =>
                r.type === 'transition' && r.data.to === node.state && r.data.at === node.since,
            ),
            `${where}: transition to ${node.state} at ${node.since}`,
          ).toBe(true);
        }
        const isolations = mine.filter((r) => r.type === 'transition' && r.data.to === 'isolated');
        expect(isolations.length, `${where}: isolations`).toBeGreaterThanOrEqual(node.isolations);
      }
    };

    for (let round = 1; round <= kills; round++) {
      // Operator commands on good nodes; the bad node stays governance's.
      for (let c = random.int(0, 2); c > 0; c--) {
        const id = ids[random.int(0, 2)] as string;
        const verb = random.chance(0.6) ? 'isolate' : 'reinstate';
        if ((await command(id, verb)) === 200)
          acknowledged.set(id, verb === 'isolate' ? 'isolated' : 'online');
      }
      // Often at once after an answered command: what was answered must already be on disk.
      if (random.chance(0.6)) await delay(random.int(0, 400));
      server.child.kill('SIGKILL');
      await server.exited();
      await checkAuditCoversState(round);
      server = serve();
      await listening(server);
      await checkRestored(round);
    }
    await until(nodes, (list) => list.find((n) => n.id === 'bad-1')?.state === 'isolated');

    // The audit log reads back whole: every seq once, in order, nothing torn left behind.
    server.child.kill('SIGTERM');
    expect(await server.exited()).toBe(0);
    const notices: string[] = [];
    const records = queryAudit(stateDir, {}, { onNotice: (m) => notices.push(m) }).reverse();
    expect(notices).toEqual([]);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(records.filter((r) => r.type === 'start')).toHaveLength(kills + 1);
    // No action applied twice: each id once, and one isolation per isolated spell of a node.
    const applied = records.filter((r) => r.type === 'action' && r.data.status === 'applied');
    expect(new Set(applied.map((r) => r.data.id)).size).toBe(applied.length);
    const isolatedNow = new Set<string>();
    for (const record of records) {
      const id = record.nodeId as string;
      if (record.type === 'transition' && record.data.from === 'isolated') isolatedNow.delete(id);
      if (
        record.type === 'action' &&
        record.data.type === 'isolate' &&
        record.data.status === 'applied'
      ) {
        expect(isolatedNow.has(id), `${id} isolated twice at seq ${record.seq}`).toBe(false);
        isolatedNow.add(id);
      }
    }
    expect(isolatedNow.has('bad-1')).toBe(true);
    await rm(dir, { recursive: true, force: true });
  }, 240_000);
});
