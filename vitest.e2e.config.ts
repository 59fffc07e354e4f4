// The end-to-end suite: real builds on the engine of test/e2e/engine (root; see its provision.sh).
//   npm run test:e2e                               (vitest run -c vitest.e2e.config.ts): the oldest engine
//   KOLLA_GEN_E2E_ENGINE=today npm run test:e2e    today's engine (CI runs the suite on both)
import { defineConfig } from 'vitest/config';

// Checked again by the harness (engineFromEnv), which refuses any other name.
const engine = process.env.KOLLA_GEN_E2E_ENGINE ?? 'oldest';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    exclude: ['node_modules/**'],
    // one engine at a time: each test file starts its own, and the machine has 2 cores
    fileParallelism: false,
    // forks, not threads: the engine's safety net tears down on the process's 'exit' and signals
    pool: 'forks',
    // the first run downloads and installs Debian packages (about 30 s here); builds run under emulation
    testTimeout: 10 * 60_000,
    hookTimeout: 10 * 60_000,
    teardownTimeout: 2 * 60_000,
    // e2e tests run the built CLI (dist/cli.js), as the unit tests do
    globalSetup: ['test/setup/build.ts'],
    // CI counts the results from this file, one per engine; the default reporter is for people.
    reporters: ['default', 'json'],
    outputFile: { json: `test-results/vitest-e2e-${engine}.json` },
  },
});
