import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeSnapshot } from 'wyneos';
import { nodeToken, operatorToken } from 'wyneos/http';
import { freePort, killAll, type Process, until, wyneos } from './processes.js';

afterAll(killAll);

const rounds = 6;

interface Answer {
  readonly boot?: number;
  readonly error?: { readonly code: string; readonly boot?: number };
}

describe('heartbeat replay across a crash', () => {
  it(`refuses the last acknowledged heartbeat replayed after each of ${rounds} SIGKILLs, and agents beat on by themselves`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-replay-'));
    const stateDir = join(dir, 'state');
    const secret = 'replay test secret, long enough, fine';
    await writeFile(join(dir, 'secret'), secret);
    await writeFile(join(dir, 'load'), '0.3\n');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const key = Buffer.from(secret);
    const operator = { authorization: `Bearer ${operatorToken(key)}` };
    const replayer = {
      authorization: `Bearer ${nodeToken(key, 'replayed')}`,
      'content-type': 'application/json',
    };
    // A long tick: the marks saved once a tick lag the heartbeats acknowledged in between, the
    // window a crash used to open.
    const serve = () =>
      wyneos([
        'serve',
        ...['--port', String(port), '--secret-file', join(dir, 'secret'), '--state-dir', stateDir],
        ...['--tick', '2s', '--heartbeat-timeout', '30s', '--log-level', 'warn'],
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
    const send = async (body: string) => {
      const response = await fetch(`${url}/v1/heartbeats`, {
        method: 'POST',
        headers: replayer,
        body,
      });
      return { status: response.status, body: (await response.json()) as Answer };
    };

    let server = serve();
    await listening(server);
    const registered = await fetch(`${url}/v1/nodes`, {
      method: 'POST',
      headers: replayer,
      body: JSON.stringify({ id: 'replayed' }),
    });
    expect(registered.status).toBe(201);
    await writeFile(join(dir, 'agent.token'), nodeToken(key, 'agent-1'));
    wyneos([
      'agent',
      ...['--server', url, '--id', 'agent-1', '--token-file', join(dir, 'agent.token')],
      ...['--load-file', join(dir, 'load'), '--interval', '100ms', '--max-backoff', '200ms'],
      ...['--log-level', 'warn'],
    ]);
    await until(nodes, (list) => list.some((n) => n.id === 'agent-1' && n.seq !== undefined));

    const epoch = 1_700_000_000_000;
    let seq = 0;
    let boot: number | undefined;
    for (let round = 1; round <= rounds; round++) {
      let last = '';
      for (let i = 0; i < 3 + round; i++) {
        last = JSON.stringify({ nodeId: 'replayed', epoch, seq: ++seq, load: 0.2, boot });
        const answer = await send(last);
        expect(answer.status, `round ${round}: ${JSON.stringify(answer.body)}`).toBe(200);
        boot = answer.body.boot;
      }
      // Killed at once after an acknowledged heartbeat: its mark is not saved yet.
      server.child.kill('SIGKILL');
      await server.exited();
      server = serve();
      await listening(server);
      const agentSeq = (await nodes()).find((n) => n.id === 'agent-1')?.seq ?? 0;

      const replayed = await send(last);
      expect(replayed.status, `round ${round}: the replay`).toBe(409);
      expect(replayed.body.error?.code).toBe('WYNEOS_ERR_HEARTBEAT_RESYNC');
      expect(replayed.body.error?.boot).toBe((boot ?? 0) + 1);
      boot = replayed.body.error?.boot;
      // The genuine node sends again with the new boot and its next seq, and is taken.
      const resent = await send(
        JSON.stringify({ nodeId: 'replayed', epoch, seq: ++seq, load: 0.2, boot }),
      );
      expect(resent.status, `round ${round}: ${JSON.stringify(resent.body)}`).toBe(200);
      expect((await send(last)).status, `round ${round}: the replay, once heard`).toBe(409);
      // The agent was never told anything by hand, and beats on.
      await until(
        nodes,
        (list) => (list.find((n) => n.id === 'agent-1')?.seq ?? 0) > agentSeq,
        20_000,
        `agent-1 beating after restart ${round}`,
      );
    }
    server.child.kill('SIGTERM');
    expect(await server.exited()).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }, 240_000);
});
