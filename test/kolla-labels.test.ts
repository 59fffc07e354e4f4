// The labels kolla-build adds at build time, as --preset kolla puts them in every target's bake labels, and
// SOURCE_DATE_EPOCH as every target's build arg. The python snippets here are hand-written in the shape of upstream's
// files, not taken from them. The oracle part runs each release's own code (test/support/kolla-labels-oracle.py) on
// the checkouts KOLLA_RELEASES_DIR names (master/, stable-2026.1/, …, as kolla-releases.test.ts takes them).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/load/config/resolve.js';
import { targetArgs, targetLabels } from '../src/load/config/build-inputs.js';
import { epochDates, kollaLabels } from '../src/load/kolla/labels.js';
import { KOLLA_LABELS, readKollaLabels, readKollaRelease } from '../src/load/kolla/kolla-release.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const ORACLE = path.join(ROOT, 'test', 'support', 'kolla-labels-oracle.py');

/** kolla_worker.py as 2026.1 and master have it: source control labels, then the OCI set per image. */
const WORKER_OCI = [
  'class KollaWorker(object):',
  '    def _get_scm_labels(self):',
  '        labels = {}',
  '        return labels',
  '',
  '    def create_dockerfiles(self):',
  "        values = {'base_distro': self.base, 'tag': self.tag}",
  '',
  '    def build_image_list(self):',
  '        oci_labels = self.scm_labels.copy()',
  '        oci_labels.update({',
  '            "org.opencontainers.image.title": image_name,',
  '            "org.opencontainers.image.description": ("OpenStack Kolla {} image".format(image_name)),',
  '            "org.opencontainers.image.version": self.tag,',
  '            "org.opencontainers.image.created": self.build_created,',
  '            "org.opencontainers.image.authors": self.maintainer,',
  '            "org.opencontainers.image.url": ("https://opendev.org/openstack/kolla"),',
  '            "org.opencontainers.image.licenses": "Apache-2.0"',
  '        })',
].join('\n');
/** tasks.py as master has it: the day the image's build starts. */
const TASKS_BUILD_DATE = ['    def builder(self, image):', "        image.labels['build-date'] = image.start.strftime('%Y%m%d')"].join('\n');
/** A kolla_worker.py and tasks.py of a release that adds no label (2025.2 and older). */
const WORKER_PLAIN = ['class KollaWorker(object):', '    def create_dockerfiles(self):', "        values = {'base_distro': self.base, 'tag': self.tag}"].join('\n');
const TASKS_PLAIN = ['    def builder(self, image):', '        image.start = datetime.datetime.now()'].join('\n');

describe('which labels a release adds (read from its kolla_worker.py and tasks.py)', () => {
  it.each([
    ['master', WORKER_OCI, TASKS_BUILD_DATE, [...KOLLA_LABELS]],
    ['2026.1', WORKER_OCI, TASKS_PLAIN, KOLLA_LABELS.filter((l) => l !== 'build-date')],
    ['2025.2 and older', WORKER_PLAIN, TASKS_PLAIN, []],
  ])('%s', (_, workerPy, tasksPy, expected) => {
    const { release, problems } = readKollaRelease({ workerPy, tasksPy });
    expect(release.labels).toEqual(expected);
    expect(problems).toEqual([]);
  });

  it('a label kolla-gen does not know is said, and left out', () => {
    const problems: string[] = [];
    const worker = WORKER_OCI.replace('"Apache-2.0"', '"Apache-2.0",\n            "org.example.new": "x"');
    expect(readKollaLabels(worker, TASKS_PLAIN, problems)).not.toContain('org.example.new');
    expect(problems).toEqual([expect.stringContaining('org.example.new')]);
  });

  it("without a checkout, master's", () => {
    const { config } = resolveConfig({ cli: { preset: 'kolla' } });
    expect(config?.kolla?.release.labels).toEqual([...KOLLA_LABELS]);
  });
});

describe('the label values', () => {
  const family = { base: 'ubuntu' as const };
  const resolve = (env: Record<string, string>, gitCommit?: string) =>
    resolveConfig({ cli: { preset: 'kolla', tag: 't-{base}' }, env, kollaCheckout: { ...(gitCommit ? { gitCommit } : {}), release: readKollaRelease({ workerPy: WORKER_OCI, tasksPy: TASKS_BUILD_DATE }).release } }).config!;

  it('from SOURCE_DATE_EPOCH, in UTC, and epoch 0 when it is unset', () => {
    expect(epochDates('0')).toEqual({ created: '1970-01-01T00:00:00Z', day: '19700101' });
    expect(epochDates('1700000000')).toEqual({ created: '2023-11-14T22:13:20Z', day: '20231114' });
    const unset = kollaLabels(resolve({}), 'keystone', family);
    expect(unset['org.opencontainers.image.created']).toBe('1970-01-01T00:00:00Z');
    expect(unset['build-date']).toBe('19700101');
  });

  it('every label as kolla-build computes it', () => {
    const commit = 'a'.repeat(40);
    expect(kollaLabels(resolve({ SOURCE_DATE_EPOCH: '1700000000' }, commit), 'keystone', family)).toEqual({
      'org.opencontainers.image.revision': commit,
      'org.opencontainers.image.source': 'https://opendev.org/openstack/kolla',
      'org.opencontainers.image.title': 'keystone',
      'org.opencontainers.image.description': 'OpenStack Kolla keystone image',
      'org.opencontainers.image.version': 't-ubuntu',
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
      'org.opencontainers.image.authors': 'Kolla Project (https://launchpad.net/kolla)',
      'org.opencontainers.image.url': 'https://opendev.org/openstack/kolla',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'build-date': '20231114',
    });
  });

  it('no revision or source without the checkout\'s git, as kolla-build\'s git fallback gives none', () => {
    const labels = kollaLabels(resolve({}), 'keystone', family);
    expect(labels).not.toHaveProperty('org.opencontainers.image.revision');
    expect(labels).not.toHaveProperty('org.opencontainers.image.source');
  });

  it('none without the preset; the config\'s labels win; the hash leaves the version out', () => {
    const plain = resolveConfig({ cli: {}, env: { SOURCE_DATE_EPOCH: '5' } }).config!;
    expect(targetLabels(plain, 'x', family)).toEqual({});
    const config = { ...resolve({}), labels: { 'org.opencontainers.image.licenses': 'MIT' } };
    expect(targetLabels(config, 'x', family)['org.opencontainers.image.licenses']).toBe('MIT');
    expect(targetLabels(config, 'x', family, true)).not.toHaveProperty('org.opencontainers.image.version');
  });

  it('SOURCE_DATE_EPOCH is every target\'s build arg, "0" when unset; a bad one is KG107', () => {
    expect(targetArgs(resolveConfig({ cli: {} }).config!)).toEqual({ SOURCE_DATE_EPOCH: '0' });
    expect(targetArgs(resolveConfig({ cli: { buildArgs: ['A=1'] }, env: { SOURCE_DATE_EPOCH: '1700000000' } }).config!)).toEqual({ SOURCE_DATE_EPOCH: '1700000000', A: '1' });
    const bad = resolveConfig({ cli: {}, env: { SOURCE_DATE_EPOCH: 'yesterday' } });
    expect(bad.config).toBeUndefined();
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['KG107']);
  });
});

// Each release's own kolla-build against kolla-gen's bake labels, for two images (the base, and one below it).
const releasesDir = process.env.KOLLA_RELEASES_DIR;
const PY = process.env.KG_PYTHON || 'python3';
const pythonReady = spawnSync(PY, ['-c', 'import jinja2, oslo_config, git, pbr, docker, yaml'], { stdio: 'ignore' }).status === 0;
const oracleReady = Boolean(releasesDir && fs.existsSync(releasesDir) && pythonReady);
if (!oracleReady) {
  console.warn('kolla-labels.test.ts: the oracle part is skipped: set KOLLA_RELEASES_DIR to the release checkouts, with python3-oslo.config, -git, -pbr, -docker, -yaml and -jinja2 installed');
}
const RELEASES = ['master', 'stable-2026.1', 'stable-2025.2', 'stable-2025.1', 'unmaintained-2024.1'];
const EPOCH = '1700000000';
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!oracleReady)("each release's own kolla-build computes the same labels", () => {
  for (const release of RELEASES) {
    const checkout = path.join(releasesDir ?? '', release);
    const dockerDir = ['kolla/docker', 'docker'].map((d) => path.join(checkout, d)).find((d) => fs.existsSync(path.join(d, 'base')));
    it.skipIf(!dockerDir)(release, () => {
      const work = fs.mkdtempSync(path.join(os.tmpdir(), `kolla-gen-labels-${release}-`));
      temps.push(work);
      fs.writeFileSync(path.join(work, 'empty.conf'), '');
      const env = { PATH: process.env.PATH ?? '', HOME: work, TZ: 'UTC', LANG: 'C.UTF-8', SOURCE_DATE_EPOCH: EPOCH, PBR_VERSION: '99.0.0', PYTHONPATH: checkout };
      const oracle = JSON.parse(
        execFileSync(PY, [ORACLE, 'base,keystone', '--config-file', path.join(work, 'empty.conf'), '-b', 'ubuntu', '--tag', 't', '--work-dir', path.join(work, 'w')], {
          env,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          maxBuffer: 64 * 1024 * 1024,
        }),
      ) as Record<string, Record<string, string>>;
      execFileSync(process.execPath, [CLI, 'generate', '--preset', 'kolla', '-D', dockerDir!, '-b', 'ubuntu', '--tag', 't', '-o', 'gen', '--quiet', '^keystone$'], {
        cwd: work,
        env: { PATH: env.PATH, SOURCE_DATE_EPOCH: EPOCH },
        stdio: 'ignore',
      });
      const bake = JSON.parse(fs.readFileSync(path.join(work, 'gen', 'docker-bake.json'), 'utf8')) as { target: Record<string, { labels?: Record<string, string> }> };
      const ours = (target: string) => Object.fromEntries(Object.entries(bake.target[target]?.labels ?? {}).filter(([k]) => !k.startsWith('kolla-gen.')));
      expect(Object.keys(oracle).sort()).toEqual(['base', 'keystone']);
      expect(ours('ubuntu-base')).toEqual(oracle.base);
      expect(ours('ubuntu-keystone')).toEqual(oracle.keystone);
      // What the oracle gives, for the report: the number of labels per release.
      console.info(`${release}: ${Object.keys(oracle.keystone ?? {}).length} labels: ${Object.keys(oracle.keystone ?? {}).join(', ') || 'none'}`);
    }, 300_000);
  }
});
