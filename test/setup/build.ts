// The CLI tests run the built CLI (dist/cli.js): build it once, fresh, before any test file runs.
import { execa } from 'execa';

export default async function setup(): Promise<void> {
  await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
