// The core is pure: only the edges (cli, commands, load, write, buildx, registry, its digest store and the cache dir) touch the file system, processes or the console.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const EDGES = ['src/cli.ts', 'src/commands/**', 'src/load/load.ts', 'src/load/files.ts', 'src/write/write.ts', 'src/engine/buildx.ts', 'src/engine/registry.ts', 'src/engine/digest-store.ts', 'src/engine/cache-dir.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'generated/**', 'coverage/**', 'test/fixtures/**/expected/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: EDGES,
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'child_process', 'node:child_process', 'execa'].map((name) => ({
            name,
            message: 'the core is pure: do I/O in load/load.ts, write/write.ts, engine/buildx.ts or the commands',
          })),
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'the core never reads the process: pass what it needs in' }],
    },
  },
  {
    files: ['bench/**/*.mjs', 'scripts/**/*.mjs', 'test/**/*.ts', '*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
