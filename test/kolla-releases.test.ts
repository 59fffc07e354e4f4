// Every maintained upstream Kolla release, rendered by kolla-gen and by that release's own kolla-build (the oracle),
// compared byte for byte, with the selection (--list-images, profiles, unbuildable). Needs outputs made outside the
// repo, so it runs only when both are given:
//   KOLLA_RELEASES_DIR  kolla-releases.sh's OUT_DIR: master/, stable-2026.1/, stable-2025.2/, stable-2025.1/, unmaintained-2024.1/
//   KOLLA_ORACLE_DIR    <release>/<base>-<arch>/ as kolla-oracle.sh writes them, rendered with `--tag t`; optional
//                       lists/list-images-<profile|enable-unbuildable>.txt beside them (kolla-build --list-images)
// The oracle fills build-date with the day it ran: kolla-gen renders with SOURCE_DATE_EPOCH set to that day (read
// from the oracle's base image), so nothing is normalised away.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const RELEASES = ['master', 'stable-2026.1', 'stable-2025.2', 'stable-2025.1', 'unmaintained-2024.1'];
const VARIANTS = ['ubuntu', 'debian', 'rocky', 'centos'].flatMap((base) => ['x86_64', 'aarch64'].map((arch) => ({ base, arch })));
const ARCH = { x86_64: 'amd64', aarch64: 'arm64' } as Record<string, string>;
const PROFILES = ['infra', 'main', 'aux', 'default'];

const releasesDir = process.env.KOLLA_RELEASES_DIR;
const oracleDir = process.env.KOLLA_ORACLE_DIR;
const ready = Boolean(releasesDir && oracleDir && fs.existsSync(releasesDir) && fs.existsSync(oracleDir));
if (!ready) {
  console.warn('kolla-releases.test.ts: skipped: set KOLLA_RELEASES_DIR (kolla-releases.sh OUT_DIR) and KOLLA_ORACLE_DIR (<release>/<base>-<arch> oracle outputs) to compare with kolla-build');
}

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
/** kolla-build --list-images prints "N : image". */
const listed = (file: string) => new Set(lines(file).map((l) => l.split(' : ')[1] ?? l));
const sorted = (s: Iterable<string>) => [...s].sort();

/** The oracle's build-date as a SOURCE_DATE_EPOCH (noon UTC of that day); undefined when the release labels none. */
function oracleEpoch(release: string): string | undefined {
  for (const { base, arch } of VARIANTS) {
    const file = path.join(oracleDir ?? '', release, `${base}-${arch}`, 'dockerfiles', 'base', 'Dockerfile');
    if (!fs.existsSync(file)) continue;
    const day = /build-date="(\d{4})(\d{2})(\d{2})"/.exec(fs.readFileSync(file, 'utf8'));
    return day ? String(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]), 12) / 1000) : undefined;
  }
  return undefined;
}

function kollaGen(args: string[], epoch: string | undefined, cwd: string): string {
  const env = { PATH: process.env.PATH ?? '', ...(epoch ? { SOURCE_DATE_EPOCH: epoch } : {}) };
  return execFileSync(process.execPath, [CLI, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

interface ListJson {
  result: { variants: { base: string; arch: string; images: string[]; unbuildable: string[] }[] };
}

describe.skipIf(!ready)('upstream Kolla releases against their own kolla-build', () => {
  for (const release of RELEASES) {
    const checkout = path.join(releasesDir ?? '', release);
    const oracle = path.join(oracleDir ?? '', release);
    const present = fs.existsSync(checkout) && fs.existsSync(oracle);
    const dockerDir = ['kolla/docker', 'docker'].map((d) => path.join(checkout, d)).find((d) => fs.existsSync(path.join(d, 'base')));

    describe.skipIf(!present || !dockerDir)(release, () => {
      const work = present ? fs.mkdtempSync(path.join(os.tmpdir(), `kolla-gen-${release}-`)) : '';
      temps.push(work);
      const epoch = present ? oracleEpoch(release) : undefined;
      const common = ['--preset', 'kolla', '-D', dockerDir ?? '', '--tag', 't'];
      let manifest: { images: { image: string; base: string; arch: string; status: string; dockerfile?: string }[] } | undefined;
      const generated = () => {
        if (!manifest) {
          kollaGen(['generate', ...common, '-o', 'gen', '--quiet'], epoch, work);
          manifest = JSON.parse(fs.readFileSync(path.join(work, 'gen', 'manifest.json'), 'utf8')) as typeof manifest;
        }
        return manifest!;
      };
      const lists = new Map<string, ListJson>();
      const list = (extra: string[]) => {
        const key = extra.join(' ');
        if (!lists.has(key)) lists.set(key, JSON.parse(kollaGen(['list', '--json', ...common, ...extra], epoch, work)) as ListJson);
        return lists.get(key)!;
      };

      for (const { base, arch } of VARIANTS) {
        const dir = path.join(oracle, `${base}-${arch}`);
        const variant = (l: ListJson) => l.result.variants.find((v) => v.base === base && v.arch === ARCH[arch]);

        it.skipIf(!fs.existsSync(path.join(dir, 'images.txt')))(`${base}-${arch}: every Dockerfile and the selection are kolla-build's`, { timeout: 300_000 }, () => {
          const rows = generated().images.filter((r) => r.base === base && r.arch === ARCH[arch] && r.status === 'selected');
          expect(sorted(rows.map((r) => r.image))).toEqual(sorted(lines(path.join(dir, 'images.txt'))));
          const differ = rows.filter((r) => {
            const want = fs.readFileSync(path.join(dir, 'dockerfiles', r.image, 'Dockerfile'));
            return !want.equals(fs.readFileSync(path.join(work, r.dockerfile ?? '')));
          });
          expect(differ.map((r) => r.image), `Dockerfiles that differ from kolla-build's on ${release} ${base}-${arch}`).toEqual([]);
        });

        it.skipIf(!fs.existsSync(path.join(dir, 'list-images.txt')))(`${base}-${arch}: --list-images, each profile, and the unbuildable images`, { timeout: 300_000 }, () => {
          expect(sorted(variant(list([]))?.images ?? [])).toEqual(sorted(listed(path.join(dir, 'list-images.txt'))));
          for (const profile of PROFILES) {
            const file = path.join(dir, 'lists', `list-images-${profile}.txt`);
            if (!fs.existsSync(file)) continue;
            expect(sorted(variant(list(['-p', profile]))?.images ?? []), `profile ${profile}`).toEqual(sorted(listed(file)));
          }
          const all = path.join(dir, 'lists', 'list-images-enable-unbuildable.txt');
          if (fs.existsSync(all)) {
            const buildable = listed(path.join(dir, 'list-images.txt'));
            const unbuildable = [...listed(all)].filter((i) => !buildable.has(i));
            expect(sorted(variant(list([]))?.unbuildable ?? []), 'unbuildable').toEqual(sorted(unbuildable));
          }
        });
      }
    });
  }
});
