import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Each case imports one entry in a fresh Node process (from the sources, with tsx) whose module
// resolution refuses some packages, as if they were not installed. A resolve hook sees every
// ESM import, static or dynamic, so an entry that loads a refused package fails to import; the
// CommonJS cache is checked too, for anything loaded with require.

const root = fileURLToPath(new URL('..', import.meta.url));
const adapters = ['fastify', '@fastify', '@nats-io', 'prom-client', 'jose', 'yaml', 'fast-check'];

const hook = `
let refused = [];
export function initialize(data) { refused = data; }
export function resolve(specifier, context, next) {
  const name = refused.find((r) => specifier === r || specifier.startsWith(r + '/'));
  if (name !== undefined) throw new Error('refused: ' + specifier + ' from ' + context.parentURL);
  return next(specifier, context);
}`;

/** Imports `entry` with `refused` unresolvable, runs `then` on it; returns what the child saw. */
function importWithout(entry: string, refused: readonly string[], then = '') {
  const script = `
import { createRequire, register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), {
  data: ${JSON.stringify(refused)},
});
try {
  const entry = await import(${JSON.stringify(`./${entry}`)});
  ${then}
  const required = Object.keys(createRequire(process.cwd() + '/').cache);
  const names = ${JSON.stringify(refused)};
  const loaded = required.filter((f) => names.some((n) => f.includes('/node_modules/' + n + '/')));
  console.log(JSON.stringify({ ok: true, loaded }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error) }));
}
process.exit(0);`;
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', script],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, WYNEOS_LOG_LEVEL: 'silent' },
      // Only a deadline against a hang, never a timing assertion.
      timeout: 60_000,
    },
  );
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as { ok: boolean; loaded?: string[]; error?: string };
  } catch {
    throw new Error(`the child printed no result: ${child.stdout}\n${child.stderr}`);
  }
}

// A licence signed with node:crypto alone, then checked by a supervisor at registration: the
// core's licence path must work with jose refused.
const registerLicensed = `
  const { generateKeyPairSync, sign } = await import('node:crypto');
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1' };
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = part({ alg: 'EdDSA', kid: 'k1' }) + '.' + part({
    jti: 'l1', iss: 'wyneos', sub: 'node-1', exp: Math.floor(Date.now() / 1000) + 3600,
  });
  const token = body + '.' + sign(null, Buffer.from(body), privateKey).toString('base64url');
  const sup = entry.createSupervisor({ licensing: { keys: [jwk] } });
  sup.start();
  try {
    sup.register({ id: 'node-1', licence: token });
    const held = sup.licence('node-1')?.licence.id;
    if (held !== 'l1') throw new Error('node-1 holds licence ' + held + ', not l1');
  } finally {
    await sup.stop();
  }
`;

describe('light core', () => {
  it('imports wyneos, and registers a licensed node, without loading any adapter', () => {
    expect(importWithout('src/index.ts', adapters, registerLicensed)).toEqual({
      ok: true,
      loaded: [],
    });
  });

  it('imports wyneos/testing and wyneos/licensing without fast-check, jose or any adapter', () => {
    expect(importWithout('src/exports/testing.ts', adapters)).toEqual({ ok: true, loaded: [] });
    expect(importWithout('src/exports/licensing.ts', adapters)).toEqual({ ok: true, loaded: [] });
  });

  it('refuses what each adapter entry really needs, so the checks above are not vacuous', () => {
    const cases = [
      // The plugin is handed a fastify instance (types only), but its metrics need prom-client.
      ['src/exports/http.ts', 'prom-client'],
      ['src/exports/nats.ts', '@nats-io'],
      ['src/exports/arbitraries.ts', 'fast-check'],
    ] as const;
    for (const [entry, needs] of cases) {
      const result = importWithout(entry, [needs]);
      expect(result.ok, entry).toBe(false);
      expect(result.error, entry).toContain(`refused: ${needs}`);
    }
  });
});
