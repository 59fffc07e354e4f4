// The tree's real build (test/tree): `npm run test:tree`. Not part of `npm test` (its files end in .tree.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/tree/**/*.tree.ts'],
    pool: 'forks',
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
    teardownTimeout: 2 * 60_000,
    globalSetup: ['test/setup/build.ts'],
  },
});
