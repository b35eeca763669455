import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The API reference builds with every public export documented: typedoc.json treats each
// validation warning (an undocumented export, a broken {@link}, a type used but not exported)
// as an error, so an export added without JSDoc fails here.

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the API reference (npm run docs:api)', () => {
  it('builds from the public entry points with no warning', () => {
    const out = mkdtempSync(join(tmpdir(), 'wyneos-api-'));
    const typedoc = spawnSync(
      process.execPath,
      [join(root, 'node_modules/typedoc/bin/typedoc'), '--out', out],
      { cwd: root, encoding: 'utf8' },
    );
    const warnings = `${typedoc.stdout}${typedoc.stderr}`
      .split('\n')
      .filter((line) => /warning|error/i.test(line));
    expect({ status: typedoc.status, warnings }).toEqual({ status: 0, warnings: [] });
    expect(readdirSync(out)).toContain('README.md');
  }, 180_000);
});
