// The SBOM of kolla-gen.yaml's `attest:` on a real engine (issue 27, item 3), offline. BuildKit makes an SBOM by
// running a scanner image (docs/building.md, "Attestations"); its default lives on Docker Hub, which these machines
// cannot reach, so the test builds a scanner of its own (test/e2e/fixtures/sbom-scanner: busybox and a shell script
// that follows BuildKit's SBOM generator protocol), pushes it to the engine's registry for the builder's platform
// only, and names it in `attest.sbom_generator`. Then `kolla-gen generate` and `kolla-gen build --push` of three
// images, both arches, and the registry's indexes: for each platform image, an attestation manifest whose SPDX
// in-toto statement is the one the scanner wrote about that image's filesystem, named by BuildKit after that image's
// digest, its files placed in that image's layers. The same on dockerd 26 + buildx 0.13 and dockerd 28.5 + buildx
// 0.29, where `build --push` is given the store=false,rewrite-timestamp=true export (docs/building.md): the SBOM names
// the rewritten layers.
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedTree, startEngine, type Engine } from './engine/index.js';
import { clampedPush } from './build-output.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const TREE = join(ROOT, 'test', 'e2e', 'fixtures', 'tree');
const SCANNER = join(ROOT, 'test', 'e2e', 'fixtures', 'sbom-scanner');
const SPDX = 'https://spdx.dev/Document';
const IMAGES = ['base', 'runtime', 'buildstage'];
const MACHINE: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64' };
const LAST_STEP_WROTE: Record<string, string> = { base: '/etc/e2e/base-machine', runtime: '/etc/e2e/runtime', buildstage: '/etc/e2e/buildstage' };

// An image of the test's own beside the fixture's: its Dockerfile asks BuildKit to scan its build stage too.
const BUILDSTAGE = `{% import "macros.j2" as macros with context %}
{{ macros.from_parent("base") }} AS build
ARG BUILDKIT_SBOM_SCAN_STAGE=true
RUN echo "made in the build stage" > /build-only
{{ macros.from_parent("base") }}
COPY --from=build /build-only /etc/e2e/from-build
{{ macros.marker(image_name) }}
`;

interface Descriptor {
  mediaType: string;
  digest: string;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}
interface Manifest {
  mediaType?: string;
  manifests?: Descriptor[];
  layers?: Descriptor[];
}
interface SpdxFile {
  fileName: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  comment?: string;
}
interface Statement {
  predicateType: string;
  subject: { name: string; digest: Record<string, string> }[];
  predicate: { name: string; creationInfo: { creators: string[]; comment?: string }; files?: SpdxFile[] };
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('SBOM attestations made by a scanner image in a registry the builder reaches', () => {
  let engine: Engine | undefined;
  let work = '';
  let generator = '';

  const kg = (args: string[]) => execa(process.execPath, [CLI, ...args], { cwd: join(work, 'ops'), env: engine!.env, extendEnv: false, reject: false });
  const raw = async (ref: string): Promise<Manifest> =>
    JSON.parse(String((await engine!.skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout)) as Manifest;
  const blob = async (repo: string, digest: string): Promise<string> => {
    const res = await fetch(`http://${engine!.registry.replace(/^localhost:/, '127.0.0.1:')}/v2/${repo}/blobs/${digest}`);
    expect(res.status, `${repo}@${digest}`).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    engine = await startEngine();
    work = mkdtempSync(join(tmpdir(), 'kolla-gen-e2e-sbom-'));
    seedTree(engine, TREE, join(work, 'ops'));
    mkdirSync(join(work, 'ops', 'docker', 'buildstage'));
    writeFileSync(join(work, 'ops', 'docker', 'buildstage', 'Dockerfile.j2'), BUILDSTAGE);
    // The scanner, for the builder's platform alone, pushed and then removed from the engine's store: the builder
    // has to pull it from the registry, as it would pull a mirror of docker/buildkit-syft-scanner.
    cpSync(SCANNER, join(work, 'scanner'), { recursive: true });
    for (const arch of ['amd64', 'arm64'] as const) copyFileSync(engine.rootfs[arch], join(work, 'scanner', `rootfs-${arch}.tar`));
    generator = `${engine.registry}/mirror/sbom-scanner:1`;
    await engine.docker(['buildx', 'build', '--provenance=false', '--platform', 'linux/amd64', '--push', '-t', generator, join(work, 'scanner')]);
    await engine.docker(['image', 'rm', generator]);
  });

  afterAll(async () => {
    try {
      await engine?.stop();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  });

  it('the scanner is in the registry for linux/amd64 only, and not in the engine\'s image store', async () => {
    const manifest = await raw(generator);
    expect(manifest.manifests, 'a single image, no index').toBeUndefined();
    const config = JSON.parse(String((await engine!.skopeo(['inspect', '--config', '--tls-verify=false', `docker://${generator}`])).stdout)) as { architecture: string; config: { Entrypoint: string[] } };
    expect(config.architecture).toBe('amd64');
    expect(config.config.Entrypoint).toEqual(['/bin/sh', '/usr/local/bin/scan']);
    const stored = String((await engine!.docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).stdout);
    expect(stored).not.toContain('sbom-scanner');
  });

  it('each platform image of each pushed image has an SPDX statement, written by the scanner about that image', async () => {
    const config = readFileSync(join(TREE, 'kolla-gen.yaml'), 'utf8');
    writeFileSync(join(work, 'ops', 'kolla-gen.yaml'), `${config}registry: ${engine!.registry}\nattest:\n  provenance: min\n  sbom: true\n  sbom_generator: ${generator}\n`);
    const generated = await kg(['generate']);
    expect(generated.exitCode, generated.stderr).toBe(0);
    // the committed bake file asks for the SBOM, with the scanner, in every target it pushes
    const hcl = readFileSync(join(work, 'ops', 'generated', 'docker-bake.hcl'), 'utf8');
    for (const image of IMAGES) {
      const block = hcl.slice(hcl.indexOf(`target "debian-${image}" {`));
      const attest = /\n {2}attest\s*=\s*\[([^\]]*)\]/.exec(block.slice(0, block.indexOf('\n}\n')))?.[1];
      expect(attest?.match(/"[^"]*"/g), image).toEqual(['"type=provenance,mode=min"', `"type=sbom,generator=${generator}"`]);
    }

    const filter = `^(${IMAGES.join('|')})$`;
    const t0 = Date.now();
    const built = await kg(['build', '--push', '--progress', 'plain', ...clampedPush(engine!.name), filter]);
    expect(built.exitCode, built.stderr.slice(-4000)).toBe(0);
    console.info(`[e2e sbom] ${engine!.name}: build --push of ${IMAGES.length} images x 2 platforms with SBOMs: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    // bake ran the committed file (no private generation), and the builder ran the scanner once per platform image
    expect(built.stdout).toContain('generated: up to date');
    for (const image of IMAGES) {
      for (const platform of ['linux/amd64', 'linux/arm64']) expect(built.stderr).toContain(`[debian-${image} ${platform}] generating sbom using ${generator}`);
    }

    for (const image of IMAGES) {
      const repo = `e2e/${image}`;
      const index = await raw(`${engine!.registry}/${repo}:1`);
      expect(index.mediaType).toMatch(/manifest\.list|image\.index/);
      const images = (index.manifests ?? []).filter((m) => m.platform?.os === 'linux');
      expect(images.map((m) => m.platform!.architecture).sort()).toEqual(['amd64', 'arm64']);
      for (const platformImage of images) {
        const arch = platformImage.platform!.architecture;
        const what = `${image} linux/${arch}`;
        const attestations = (index.manifests ?? []).filter((m) => m.annotations?.['vnd.docker.reference.digest'] === platformImage.digest);
        expect(attestations, what).toHaveLength(1);
        expect(attestations[0]!.annotations?.['vnd.docker.reference.type']).toBe('attestation-manifest');
        expect(attestations[0]!.platform).toEqual({ os: 'unknown', architecture: 'unknown' });
        const attestation = await raw(`${engine!.registry}/${repo}@${attestations[0]!.digest}`);
        const predicateTypes = (attestation.layers ?? []).map((l) => l.annotations?.['in-toto.io/predicate-type']);
        // provenance beside the SBOM; the build stage's own scan is a second SPDX statement
        expect(predicateTypes.filter((t) => t === SPDX), what).toHaveLength(image === 'buildstage' ? 2 : 1);
        expect(predicateTypes.filter((t) => t?.startsWith('https://slsa.dev/provenance/')), what).toHaveLength(1);

        const statements: Statement[] = [];
        for (const layer of (attestation.layers ?? []).filter((l) => l.annotations?.['in-toto.io/predicate-type'] === SPDX)) {
          expect(layer.mediaType).toBe('application/vnd.in-toto+json');
          statements.push(JSON.parse(await blob(repo, layer.digest)) as Statement);
        }
        const core = statements.find((s) => s.predicate.name === 'sbom');
        expect(core, `${what}: the scan of BUILDKIT_SCAN_SOURCE (…/sbom) in ${statements.map((s) => s.predicate.name).join(', ')}`).toBeDefined();
        for (const statement of statements) {
          expect(statement.predicateType).toBe(SPDX);
          // the scanner left `subject` empty: BuildKit named the platform image
          expect(statement.subject).toEqual([{ name: expect.stringContaining(`/e2e/${image}@1?platform=linux%2F${arch}`) as unknown, digest: { sha256: platformImage.digest.slice('sha256:'.length) } }]);
          // the scanner's document; BuildKit supplements the core scan's (below) and adds itself as its creator
          expect(statement.predicate.creationInfo.creators, `${what} ${statement.predicate.name}`).toEqual(
            statement === core ? ['Tool: kolla-gen-e2e-scanner', expect.stringMatching(/^Tool: buildkit-/)] : ['Tool: kolla-gen-e2e-scanner'],
          );
          // BuildKit runs the scanner for its own platform, the arm64 image's scan too: no arm64 scanner needed
          expect(statement.predicate.creationInfo.comment, what).toMatch(/ on x86_64$/);
        }

        // the core scan read this platform image's filesystem: its marker files, with their contents' checksums
        const files = new Map((core!.predicate.files ?? []).map((f) => [f.fileName, f]));
        const checksum = (name: string) => files.get(name)?.checksums?.find((c) => c.algorithm === 'SHA1')?.checksumValue;
        expect(checksum('/etc/e2e/base-machine'), what).toBe(sha1(`${MACHINE[arch]}\n`));
        expect(checksum(`/etc/e2e/${image}`), what).toBe(sha1(`${image} debian\n`));
        expect(files.has('/etc/e2e/runtime'), what).toBe(image === 'runtime');
        expect(files.has('/build-only'), `${what}: the build stage's file is not in the image`).toBe(false);
        expect(checksum('/etc/e2e/from-build'), what).toBe(image === 'buildstage' ? sha1('made in the build stage\n') : undefined);
        expect(core!.predicate.creationInfo.comment).toBe(`scanned ${files.size} files on x86_64`);

        // BuildKit placed every file in a layer of this image, as pushed (on today's engine: the rewritten layers):
        // busybox in the bottom one, the file of the image's last step in the top one
        const manifest = await raw(`${engine!.registry}/${repo}@${platformImage.digest}`);
        const layers = (manifest.layers ?? []).map((l) => l.digest);
        for (const file of files.values()) expect(layers, `${what}: ${file.fileName} ${file.comment}`).toContain(file.comment?.replace(/^layerID: /, ''));
        expect(files.get('/bin/busybox')?.comment, what).toBe(`layerID: ${layers[0]}`);
        expect(files.get(LAST_STEP_WROTE[image]!)?.comment, what).toBe(`layerID: ${layers.at(-1)}`);
        const rewritten = (manifest.layers ?? []).map((l) => l.annotations?.['buildkit/rewritten-timestamp'] !== undefined);
        expect(rewritten, `${what}: layers exported with rewrite-timestamp`).toEqual(layers.map(() => engine!.name === 'today'));

        // BUILDKIT_SBOM_SCAN_STAGE: the build stage came as an extra (BUILDKIT_SCAN_SOURCE_EXTRAS/sbom-<stage>),
        // scanned apart; its files are in no layer of the image, and BuildKit leaves its statement as written
        const extras = statements.filter((s) => s !== core);
        expect(extras.map((s) => s.predicate.name), what).toEqual(image === 'buildstage' ? ['sbom-build'] : []);
        for (const extra of extras) {
          const extraFiles = new Map((extra.predicate.files ?? []).map((f) => [f.fileName, f]));
          expect(extraFiles.get('/build-only')?.checksums?.[0]?.checksumValue, what).toBe(sha1('made in the build stage\n'));
          expect(extraFiles.has('/etc/e2e/from-build'), what).toBe(false);
          expect([...extraFiles.values()].filter((f) => f.comment !== undefined), what).toEqual([]);
        }
      }
    }
  });
});
