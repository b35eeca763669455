import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests and examples import `wyneos` and its subpaths by name, like a user; resolve them to
    // the sources so tests never run against a stale build. `wyneos/<name>` is
    // src/exports/<name>.ts, as package.json's exports map it in dist.
    alias: [
      {
        find: /^wyneos\/([a-z-]+)$/,
        replacement: fileURLToPath(new URL('./src/exports/$1.ts', import.meta.url)),
      },
      { find: /^wyneos$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    // Examples that are tests (examples/property-test-a-policy) run with the suite.
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    env: { WYNEOS_LOG_LEVEL: 'silent' },
    // Property tests run hundreds of simulated fleets; on a busy 2-core machine the default 5 s
    // is too tight. A hang still fails, after 60 s.
    testTimeout: 60_000,
  },
});
