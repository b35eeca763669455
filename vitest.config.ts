import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests and examples import `wyneos` by name, like a user; resolve it to the sources so
    // tests never run against a stale build.
    alias: [
      {
        find: /^wyneos\/testing$/,
        replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
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
