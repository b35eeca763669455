import { readdir, readFile } from 'node:fs/promises';
import { fastify } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor } from 'wyneos';
import { wyneosPlugin } from 'wyneos/http';
import { httpFleet, silentLogger } from './helpers.js';

// The dashboard's routes: the page and its files are open, exact names only, under a prefix
// too; the data stays behind the operator's token. The page itself is tested in a browser
// (dashboard.test.ts).

const assetDir = new URL('../src/http/dashboard/', import.meta.url);
type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe('http dashboard', () => {
  it('serves the page and its files without a token, with a strict content security policy; the data still needs the token', async () => {
    fleet = await httpFleet();
    const { app } = fleet;
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="dashboard/main.js">');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const script = await app.inject({ url: '/dashboard/main.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const style = await app.inject({ url: '/dashboard/style.css' });
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await app.inject({ url: '/v1/nodes' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/v1/events' })).statusCode).toBe(401);
  });

  it('serves every module the page imports, and nothing but its own files by exact name', async () => {
    fleet = await httpFleet();
    const { app } = fleet;
    const imported = new Set<string>();
    for (const name of await readdir(assetDir)) {
      if (!name.endsWith('.js')) continue;
      const source = await readFile(new URL(name, assetDir), 'utf8');
      for (const match of source.matchAll(/from '\.\/([\w-]+\.js)'/g)) imported.add(match[1] ?? '');
    }
    expect(imported.size).toBeGreaterThan(3);
    for (const name of imported) {
      expect((await app.inject({ url: `/dashboard/${name}` })).statusCode, name).toBe(200);
    }
    for (const url of [
      '/dashboard/nothing.js',
      '/dashboard/index.html',
      '/dashboard/..%2Fplugin.ts',
      '/dashboard/%2e%2e%2fauth.ts',
      '/dashboard/../routes/dashboard.ts',
      '/dashboard/',
    ]) {
      const answer = await app.inject({ url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json().error.code, url).toBe('WYNEOS_ERR_NO_ROUTE');
    }
  });

  it('mounts under a prefix, redirecting the bare prefix to the trailing slash its relative links need', async () => {
    const sup = createSupervisor({ logger: silentLogger });
    const app = fastify();
    await app.register(wyneosPlugin, { supervisor: sup, prefix: '/wyneos' });
    const bare = await app.inject({ url: '/wyneos?token=abc' });
    expect(bare.statusCode).toBe(308);
    expect(bare.headers.location).toBe('/wyneos/?token=abc');
    expect((await app.inject({ url: '/wyneos/' })).body).toContain('<title>');
    expect((await app.inject({ url: '/wyneos/dashboard/grid.js' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/' })).statusCode).toBe(404);
    await app.close();
    await sup.stop();
  });

  it('serves no page with dashboard: false', async () => {
    fleet = await httpFleet({}, { dashboard: false });
    expect((await fleet.app.inject({ url: '/' })).statusCode).toBe(404);
    expect((await fleet.app.inject({ url: '/dashboard/main.js' })).statusCode).toBe(404);
  });
});
