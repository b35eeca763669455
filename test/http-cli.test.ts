import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createProgram } from '../src/cli/program.js';
import { httpFleet } from './helpers.js';
import { killAll, wyneos } from './processes.js';

afterAll(killAll);
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('the HTTP API from the command line', () => {
  it('`wyneos openapi` prints the document the server answers, with no server', async () => {
    const lines: string[] = [];
    await createProgram((line) => lines.push(line)).parseAsync(['node', 'wyneos', 'openapi']);
    const printed = JSON.parse(lines.join('\n'));
    await SwaggerParser.validate(structuredClone(printed));
    expect(printed.info.version).toMatch(/^\d+\.\d+\.\d+/);
    const fleet = await httpFleet();
    close = fleet.close;
    const served = (await fleet.app.inject({ url: '/openapi.json' })).json();
    expect({ ...printed, info: {} }).toEqual({ ...served, info: {} });
  });

  it('`wyneos serve --access-log errors` logs only the requests answered 4xx or 5xx', async () => {
    const serve = wyneos(['serve', '--port', '0', '--access-log', 'errors']);
    const { url } = (await serve.waitFor(
      (line) => line.msg === 'wyneos serve listening',
      'listening',
    )) as { url: string };
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const wrong = await fetch(`${url}/v1/nodes`, { method: 'PUT' });
    expect(wrong.status).toBe(405);
    const line = await serve.waitFor((l) => l.msg === 'request', 'an access log line');
    expect(line).toMatchObject({ method: 'PUT', url: '/v1/nodes', status: 405 });
    serve.child.kill('SIGTERM');
    expect(await serve.exited()).toBe(0);
    expect(serve.lines.filter((l) => l.msg === 'request')).toHaveLength(1);
  });
});
