import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * wyneos's version, from its package.json: read at run time from the package root, whether
 * running from src/ or from dist/src/. `unknown` when no package.json names wyneos.
 */
export function packageVersion(): string {
  cached ??= readVersion();
  return cached;
}

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'wyneos' && pkg.version !== undefined) return pkg.version;
    } catch {
      // No package.json at this level: keep walking up.
    }
  }
  return 'unknown';
}
