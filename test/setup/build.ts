// The CLI tests run the built CLI (dist/cli.js, the bundle users run): build it once, fresh, before any test file runs.
// The runs keep their template cache in a temp dir of this test run, not in the user's (see docs/performance.md).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';

export default async function setup(): Promise<() => void> {
  await execa('node', ['scripts/bundle.mjs'], { stdio: 'inherit' });
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kolla-gen-test-cache-'));
  process.env.KOLLA_GEN_CACHE_DIR = cache;
  return () => fs.rmSync(cache, { recursive: true, force: true });
}
