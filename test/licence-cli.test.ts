import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type HeartbeatReply, nodeToken, operatorToken } from 'wyneos/http';
import { createProgram } from '../src/cli/program.js';
import { killAll, until, wyneos } from './processes.js';

afterAll(killAll);

async function run(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await createProgram((line) => lines.push(line)).parseAsync(['node', 'wyneos', ...args]);
  return lines;
}

// The walkthrough in docs/licences-and-trust.md, step by step: keygen, issue, verify, serve with the public key, an
// agent presenting its licence, revoke, and the node gated and told so.
describe('licence-cli', () => {
  it('issues, verifies, serves, admits, revokes and gates with the command line alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-licence-'));
    const at = (name: string) => join(dir, name);
    const [kid] = await run('licence', 'keygen', '--out', at('key'));
    const publicJwk = JSON.parse(await readFile(at('key.public.jwk.json'), 'utf8'));
    expect(publicJwk).toMatchObject({ kid, kty: 'OKP', crv: 'Ed25519' });
    expect(publicJwk.d).toBeUndefined();
    await expect(run('licence', 'keygen', '--out', at('key'))).rejects.toThrow(/EEXIST/);

    const [token] = await run(
      ...['licence', 'issue', '--key', at('key.private.jwk.json'), '--node', 'node-7'],
      ...['--days', '30', '--features', 'a,b', '--id', 'lic-node-7'],
    );
    await writeFile(at('node-7.licence'), `${token}\n`);
    const verified = await run(
      'licence',
      'verify',
      at('node-7.licence'),
      '--key',
      at('key.public.jwk.json'),
    );
    expect(JSON.parse(verified.join('\n'))).toMatchObject({
      id: 'lic-node-7',
      features: ['a', 'b'],
    });
    const wrongNode = await run(
      ...['licence', 'verify', at('node-7.licence'), '--key', at('key.public.jwk.json')],
      ...['--node', 'node-8'],
    );
    expect(wrongNode.join('')).toMatch(/\(wrong-node\)/);
    process.exitCode = 0;

    const secret = 'licence e2e secret of enough bytes';
    await writeFile(at('secret'), secret);
    const serve = wyneos([
      ...['serve', '--port', '0', '--secret-file', at('secret'), '--tick', '100ms'],
      ...['--heartbeat-timeout', '1s', '--licence-key', at('key.public.jwk.json')],
    ]);
    const { url } = (await serve.waitFor(
      (l) => l.msg === 'wyneos serve listening',
      'listening',
    )) as {
      url: string;
    };
    const key = Buffer.from(secret);
    const register = (id: string, body: object) =>
      fetch(`${url}/v1/nodes`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${nodeToken(key, id)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ id, ...body }),
      });
    const unlicensed = await register('node-8', {});
    expect(unlicensed.status).toBe(403);
    expect(await unlicensed.json()).toMatchObject({
      error: { code: 'WYNEOS_ERR_LICENCE_REFUSED', message: expect.stringContaining('(missing)') },
    });

    await writeFile(at('node-7.token'), nodeToken(key, 'node-7'));
    const agent = wyneos([
      ...['agent', '--server', url, '--id', 'node-7', '--token-file', at('node-7.token')],
      ...['--licence-file', at('node-7.licence'), '--interval', '100ms'],
    ]);
    await agent.waitFor((l) => l.msg === 'registered', 'registered');

    const revoked = await run(
      ...['licence', 'revoke', '--server', url, '--secret-file', at('secret')],
      ...['--id', 'lic-node-7', '--reason', 'contract ended'],
    );
    expect(JSON.parse(revoked.join(''))).toMatchObject({ revocation: { licenceId: 'lic-node-7' } });
    const gated = await agent.waitFor((l) => l.msg === 'state' && l.state === 'isolated', 'gated');
    expect(gated.reason).toBe('licence: revoked (contract ended)');
    await agent.waitFor(
      (l) => l.msg === 'licence' && (l.licence as HeartbeatReply['licence'])?.status === 'revoked',
      'told of the revocation',
    );
    const view = await until(
      async () =>
        (await fetch(`${url}/v1/nodes/node-7`, {
          headers: { authorization: `Bearer ${operatorToken(key)}` },
        }).then((r) => r.json())) as { licence: { status: string } },
      (v) => v.licence?.status === 'revoked',
    );
    expect(view.licence.status).toBe('revoked');
    serve.child.kill('SIGTERM');
    agent.child.kill('SIGTERM');
    expect(await serve.exited()).toBe(0);
  }, 60_000);
});
