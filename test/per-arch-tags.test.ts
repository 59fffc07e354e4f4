// Content tags that per-arch CI can share, with the built CLI: a run for one arch tags each image with that arch's
// variant hash, the same tag a multi-arch run's manifest list is made from, split image or folded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentRef, targetHash } from '../src/changes/content-hash.js';
import { copyFixture, run } from './support/cli.js';
import { withHashes } from './support/hashes.js';

interface Entry {
  image: string;
  base: string;
  type?: string;
  arch: 'amd64' | 'arm64';
  status: string;
  target?: string;
  hash: string;
  tags?: string[];
}

async function generate(fixture: string, args: string[]): Promise<{ manifest: Entry[]; tags: Map<string, string[]> }> {
  const dir = copyFixture(fixture);
  const r = await run(dir, ['generate', '--content-tags', ...args]);
  expect(r.exitCode, r.stderr).toBe(0);
  const manifest = await withHashes(dir, (JSON.parse(fs.readFileSync(path.join(dir, 'generated/manifest.json'), 'utf8')) as { images: Omit<Entry, 'hash'>[] }).images, args);
  const bake = JSON.parse(fs.readFileSync(path.join(dir, 'generated/docker-bake.json'), 'utf8')) as { target: Record<string, { tags?: string[] }> };
  return { manifest, tags: new Map(Object.entries(bake.target).map(([name, t]) => [name, t.tags ?? []])) };
}

const kg = (tags: string[]) => tags.filter((t) => /:kg-[0-9a-f]{32}$/.test(t));

describe.each(['basic', 'split'])('per-arch content tags (test/fixtures/%s)', (fixture) => {
  it('two one-arch runs tag what the multi-arch run hashes per arch; its list tag is derived from them', async () => {
    const both = await generate(fixture, []);
    const one = { amd64: await generate(fixture, ['-a', 'amd64']), arm64: await generate(fixture, ['-a', 'arm64']) };
    const selected = both.manifest.filter((e) => e.status === 'selected');
    expect(selected.length).toBeGreaterThan(0);
    for (const entry of selected) {
      const alone = one[entry.arch].manifest.find((e) => e.image === entry.image && e.base === entry.base && e.type === entry.type && e.arch === entry.arch);
      // the variant hash does not depend on which other arches the run builds
      expect(alone?.hash, `${entry.image} ${entry.base} ${entry.type ?? ''} ${entry.arch}`).toBe(entry.hash);
      // the one-arch run's target pushes kg-<that hash>
      const repository = (alone?.tags?.[0] ?? '').replace(/:[^:/]+$/, '');
      expect(kg(one[entry.arch].tags.get(alone?.target ?? '') ?? [])).toEqual([contentRef(repository, entry.hash)]);
      // the multi-arch target (or the split image's list) is tagged over its arches' hashes, in any arch order
      const arches = selected.filter((e) => e.image === entry.image && e.base === entry.base && e.type === entry.type).map((e) => ({ arch: e.arch, hash: e.hash }));
      const target = both.tags.get(entry.target ?? '') ?? [];
      const listTag = contentRef(repository, targetHash(arches));
      if (entry.target?.endsWith(`-${entry.arch}`)) {
        // a split image's per-arch target: the per-arch tag a folded image's half would have
        expect(kg(target)).toEqual([contentRef(repository, entry.hash)]);
      } else {
        expect(kg(target)).toEqual([listTag]);
      }
      expect(targetHash([...arches].reverse())).toBe(targetHash(arches));
    }
  });
});
