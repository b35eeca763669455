import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** wyneos's version, read at run time from the package root (from src/ or from dist/src/). */
export function packageVersion(): string {
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
