// The CLI tests run the built CLI (dist/cli.js, the bundle users run): build it once, fresh, before any test file runs.
import { execa } from 'execa';

export default async function setup(): Promise<void> {
  await execa('node', ['scripts/bundle.mjs'], { stdio: 'inherit' });
}
