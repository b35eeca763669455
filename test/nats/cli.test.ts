import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, type Process, wyneos } from '../processes.js';
import { eventually, type NatsServer, natsServerPath, startNatsServer } from './server.js';

const isAction = (type: string) => (line: Record<string, unknown>) =>
  line.msg === 'action' && line.action === type;

describe.skipIf(natsServerPath === undefined)('nats: wyneos serve --nats and agent --nats', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    killAll();
    await server?.stop();
  });

  it('enforces on a node over NATS, and a node that was away reads the decision on its return', async () => {
    const serve = wyneos([
      ...['serve', '--nats', server.url, '--shards', '4', '--lease', '2s', '--port', '0'],
      ...['--tick', '200ms', '--heartbeat-timeout', '5s', '--log-level', 'info'],
    ]);
    const listening = await serve.waitFor((l) => l.msg === 'wyneos serve listening', 'listening');
    const url = listening.url as string;
    // A steady load, not this busy machine's: no overload decisions mixed into the test's own.
    const loadFile = join(mkdtempSync(join(tmpdir(), 'wyneos-nats-cli-')), 'load');
    writeFileSync(loadFile, '0.3\n');
    const agent = (): Process =>
      wyneos([
        ...['agent', '--nats', server.url, '--id', 'edge-1', '--interval', '200ms'],
        ...['--load-file', loadFile, '--log-level', 'debug'],
      ]);
    const command = (verb: string) =>
      fetch(`${url}/v1/nodes/edge-1/${verb}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: `cli test: ${verb}` }),
      });

    const first = agent();
    await first.waitFor((l) => l.msg === 'registered', 'registered');
    await eventually(
      () => fetch(`${url}/v1/nodes/edge-1`).then((r) => r.status),
      (status) => status === 200,
    );
    expect((await command('isolate')).status).toBe(200);
    await first.waitFor(isAction('isolate'), 'isolate applied');
    // Applied and cleared from its outbox: a node killed between the two applies it again on
    // its return (at least once), which is not what this test is about.
    await first.waitFor((l) => l.msg === 'decision cleared', 'isolate cleared');
    first.child.kill('SIGKILL');
    await first.exited();

    // Decided while the node is away: no one answers the request, the KV outbox keeps it.
    expect((await command('reinstate')).status).toBe(200);
    const second = agent();
    await second.waitFor(isAction('reinstate'), 'reinstate read on return');
    expect(second.lines.filter(isAction('isolate'))).toEqual([]);
    serve.child.kill('SIGTERM');
    second.child.kill('SIGTERM');
    expect(await serve.exited()).toBe(0);
  });
});
