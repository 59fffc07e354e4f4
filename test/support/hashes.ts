// The chained content hash of every (image, variant), as scripts get it since manifest.json records only each image's
// own inputs: from `kolla-gen list --json` (its variants' `hashes`).
import { expect } from 'vitest';
import { run } from './cli.js';

interface Keyed {
  image: string;
  base: string;
  type?: string;
  arch: string;
}

export const hashKey = (e: Keyed): string => `${e.image}|${e.base}|${e.type ?? ''}|${e.arch}`;

/** `args`: the options that made the output (those that change a hash: -D, --build-arg, …), as `list` takes them. */
export async function chainedHashes(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<Map<string, string>> {
  const r = await run(dir, ['list', '--json', '--quiet', ...args], env);
  expect(r.exitCode, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { result: { variants: (Omit<Keyed, 'image'> & { hashes: Record<string, string> })[] } };
  const hashes = new Map<string, string>();
  for (const v of out.result.variants) for (const [image, hash] of Object.entries(v.hashes)) hashes.set(hashKey({ ...v, image }), hash);
  return hashes;
}

/** Manifest entries with their chained hash. */
export async function withHashes<T extends Keyed>(dir: string, entries: T[], args: string[] = []): Promise<(T & { hash: string })[]> {
  const hashes = await chainedHashes(dir, args);
  return entries.map((e) => ({ ...e, hash: hashes.get(hashKey(e)) ?? '' }));
}
