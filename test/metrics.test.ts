import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { maxLoad } from 'wyneos';
import { runServe, serveCommand } from '../src/cli/serve.js';
import { httpFleet, silentLogger } from './helpers.js';

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
const fleets: Fleet[] = [];
async function start(...args: Parameters<typeof httpFleet>): Promise<Fleet> {
  const fleet = await httpFleet(...args);
  fleets.push(fleet);
  return fleet;
}
afterEach(async () => {
  for (const fleet of fleets.splice(0)) await fleet.close();
});

// promtool comes from .ci/install-prometheus (run by `npm test`'s pretest). Without it the lint
// is skipped and says so, except in CI, where a missing promtool fails.
const promtool = (() => {
  try {
    return (
      execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined;
  }
})();
if (promtool === undefined && (process.env.CI || process.env.WYNEOS_REQUIRE_PROMTOOL)) {
  throw new Error('promtool is not installed: run .ci/install-prometheus');
}
if (promtool === undefined) {
  console.warn('promtool is not installed: the promtool lint is skipped (.ci/install-prometheus)');
}

const metricsToken = 'a-metrics-token-for-prometheus';
const scrape = async (fleet: Fleet) => (await fleet.app.inject({ url: '/metrics' })).body;

/** Each series of wyneos's own metrics (not the process's), as `name{labels}`. */
function ownSeries(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('wyneos_') && !/^wyneos_(process|nodejs)_/.test(line))
    .map((line) => line.slice(0, line.lastIndexOf(' ')));
}

/** Registrations, accepted and rejected heartbeats (several reasons), an isolation, ticks. */
async function someActivity({ app, node, sup, advance }: Fleet): Promise<void> {
  sup.registerMany([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
  const send = (headers: Record<string, string>, payload: object) =>
    app.inject({ method: 'POST', url: '/v1/heartbeats', headers, payload });
  await send(node('a'), { nodeId: 'a', seq: 1, load: 0.7 });
  await send(node('a'), { nodeId: 'a', seq: 1, load: 0.7 }); // stale
  await send(node('a'), { nodeId: 'b', seq: 1, load: 0.2 }); // forbidden
  await send(node('a'), { nodeId: 'a' }); // invalid
  await send(node('zz'), { nodeId: 'zz', seq: 1, load: 0.2 }); // unknown node
  await send({}, { nodeId: 'c', seq: 1, load: 0.2 }); // unauthenticated
  sup.isolate('b', 'maintenance');
  advance(3000);
}

describe('metrics', () => {
  it('exports every known label value at 0 on a fresh supervisor, and activity adds no series', async () => {
    const fleet = await start({ rules: [maxLoad(0.5)] });
    const fresh = await scrape(fleet);
    const zero = (name: string, labels: string) =>
      expect(fresh).toContain(`${name}{${labels}} 0\n`);
    for (const reason of [
      'invalid',
      'unknown-node',
      'stale',
      'rate-limited',
      'unauthenticated',
      'forbidden',
      'too-large',
      'stopped',
    ]) {
      zero('wyneos_heartbeats_rejected_total', `reason="${reason}"`);
    }
    for (const state of ['online', 'overloaded', 'isolated', 'offline']) {
      zero('wyneos_nodes', `state="${state}"`);
    }
    for (const type of ['isolate', 'reduce-load', 'reinstate', 'warn', 'recover', 'propagate']) {
      for (const status of ['proposed', 'applied', 'held', 'failed']) {
        zero('wyneos_actions_total', `type="${type}",status="${status}"`);
      }
    }
    for (const outcome of ['pass', 'fail', 'warn', 'error', 'skip']) {
      zero('wyneos_rule_results', `rule="max-load",outcome="${outcome}"`);
    }

    await someActivity(fleet);
    const after = await scrape(fleet);
    expect(after).toContain('wyneos_heartbeats_rejected_total{reason="stale"} 1\n');
    expect(after).toContain('wyneos_actions_total{type="isolate",status="applied"} 1\n');
    expect(new Set(ownSeries(after))).toEqual(new Set(ownSeries(fresh)));
  });

  it("serves prom-client's default metrics and build info, each plugin on a registry of its own", async () => {
    const first = await start();
    const second = await start();
    first.sup.register({ id: 'a' });
    await first.app.inject({
      method: 'POST',
      url: '/v1/heartbeats',
      headers: first.node('a'),
      payload: { nodeId: 'a', seq: 1, load: 0.1 },
    });
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const texts = [await scrape(first), await scrape(second)];
    for (const text of texts) {
      expect(text).toContain('# TYPE wyneos_process_cpu_user_seconds_total counter');
      expect(text).toContain('# TYPE wyneos_nodejs_heap_size_used_bytes gauge');
      expect(text).toContain('# TYPE wyneos_nodejs_eventloop_lag_p99_seconds gauge');
      expect(text).toContain(
        `wyneos_build_info{version="${version}",node="${process.version}"} 1\n`,
      );
    }
    expect(texts[0]).toContain('wyneos_heartbeats_accepted_total 1\n');
    expect(texts[1]).toContain('wyneos_heartbeats_accepted_total 0\n');
    expect(await globalRegistry.metrics()).not.toContain('wyneos_');
  });

  it('asks for the metrics token when one is set: 401 with WWW-Authenticate otherwise', async () => {
    const { app, operator } = await start({}, { metricsToken });
    const get = (authorization?: string) =>
      app.inject({
        url: '/metrics',
        headers: authorization === undefined ? {} : { authorization },
      });

    const missing = await get();
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="wyneos"');
    expect(missing.json().error.code).toBe('WYNEOS_ERR_UNAUTHENTICATED');
    for (const authorization of [
      `Bearer ${metricsToken}x`,
      `Bearer ${metricsToken.slice(1)}`,
      `Basic ${metricsToken}`,
      metricsToken,
      operator.authorization,
      'Bearer ',
    ]) {
      const wrong = await get(authorization);
      expect(wrong.statusCode, authorization).toBe(401);
      // RFC 6750: the error only for a bearer token that was sent and is not the one.
      expect(wrong.headers['www-authenticate']).toBe(
        /^bearer /i.test(authorization)
          ? 'Bearer realm="wyneos", error="invalid_token"'
          : 'Bearer realm="wyneos"',
      );
      expect(wrong.json().error.code).toBe('WYNEOS_ERR_UNAUTHENTICATED');
      expect(wrong.body).not.toContain(metricsToken);
    }
    for (const authorization of [`Bearer ${metricsToken}`, `bearer  ${metricsToken}`]) {
      const right = await get(authorization);
      expect(right.statusCode, authorization).toBe(200);
      expect(right.body).toContain('wyneos_build_info');
    }
    // The token guards /metrics only.
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses a metrics token too short, with spaces, or without the metrics route, by name', async () => {
    for (const metricsToken of ['short', 'sixteen chars ok but spaced', 7]) {
      await expect(httpFleet({}, { metricsToken: metricsToken as string })).rejects.toMatchObject({
        code: 'WYNEOS_ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/wyneosPlugin metricsToken.*at least 16 visible ASCII/),
      });
    }
    await expect(httpFleet({}, { metricsToken, metrics: false })).rejects.toThrow(
      /metricsToken.*needs metrics: true/,
    );
  });

  it('serve: --metrics-token guards /metrics, and a bad one is refused by its flag', async () => {
    const command = serveCommand().action(() => {});
    command.parse(['--metrics-token', metricsToken], { from: 'user' });
    expect(command.opts().metricsToken).toBe(metricsToken);

    await expect(runServe({ port: 0, metricsToken: 'short' }, silentLogger)).rejects.toThrow(
      /--metrics-token: must be at least 16/,
    );
    const server = await runServe({ port: 0, metricsToken }, silentLogger);
    try {
      const open = await fetch(`${server.url}/metrics`);
      expect(open.status).toBe(401);
      expect(open.headers.get('www-authenticate')).toBe('Bearer realm="wyneos"');
      const scraped = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${metricsToken}` },
      });
      expect(scraped.status).toBe(200);
    } finally {
      await server.shutdown();
    }
  });

  it.skipIf(promtool === undefined)(
    'passes `promtool check metrics` with no warning, fresh and after activity',
    async () => {
      const fleet = await start({ rules: [maxLoad(0.5)] });
      const lint = (text: string) => {
        const run = spawnSync(promtool as string, ['check', 'metrics'], {
          input: text,
          encoding: 'utf8',
        });
        return { status: run.status, output: `${run.stdout}${run.stderr}` };
      };
      expect(lint(await scrape(fleet))).toEqual({ status: 0, output: '' });
      await someActivity(fleet);
      const text = await scrape(fleet);
      expect(text).toContain('wyneos_nodes{state="isolated"} 1\n');
      expect(lint(text)).toEqual({ status: 0, output: '' });
      // promtool does speak up: a counter without its _total suffix is a warning.
      expect(lint('# HELP x_count x\n# TYPE x_count counter\nx_count 1\n').output).toMatch(
        /_total/,
      );
    },
  );
});
