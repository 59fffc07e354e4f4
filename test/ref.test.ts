import { describe, expect, it } from 'vitest';
import { familiarRef, formatRef, parseRef, type ParsedRef } from '../src/core/ref.js';

const SHA = 'sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa';
const SHA512 = `sha512:${'ab'.repeat(64)}`;

// [raw, parseRef(raw), familiarRef(raw)]: the familiar form is the key BuildKit matches named contexts by.
const cases: [string, ParsedRef | undefined, string | undefined][] = [
  // Docker Hub official images
  ['ubuntu', { path: 'library/ubuntu' }, 'ubuntu'],
  ['ubuntu:24.04', { path: 'library/ubuntu', tag: '24.04' }, 'ubuntu:24.04'],
  ['ubuntu:latest', { path: 'library/ubuntu', tag: 'latest' }, 'ubuntu'],
  ['library/ubuntu', { path: 'library/ubuntu' }, 'ubuntu'],
  ['docker.io/ubuntu', { path: 'library/ubuntu' }, 'ubuntu'],
  ['docker.io/library/ubuntu:latest', { path: 'library/ubuntu', tag: 'latest' }, 'ubuntu'],
  ['index.docker.io/library/debian:bookworm', { path: 'library/debian', tag: 'bookworm' }, 'debian:bookworm'],
  ['docker.io/library/ubuntu:noble-20240801', { path: 'library/ubuntu', tag: 'noble-20240801' }, 'ubuntu:noble-20240801'],
  // Docker Hub namespaces
  ['kolla/base:2026.1', { path: 'kolla/base', tag: '2026.1' }, 'kolla/base:2026.1'],
  ['docker.io/kolla/base:latest', { path: 'kolla/base', tag: 'latest' }, 'kolla/base'],
  ['kolla/ubuntu-binary-nova-api:master', { path: 'kolla/ubuntu-binary-nova-api', tag: 'master' }, 'kolla/ubuntu-binary-nova-api:master'],
  ['openstack.kolla/base:2024.1-rocky-9', { registry: 'openstack.kolla', path: 'base', tag: '2024.1-rocky-9' }, 'openstack.kolla/base:2024.1-rocky-9'],
  // library/ with more components, or on another registry, is kept
  ['docker.io/library/distros/ubuntu', { path: 'library/distros/ubuntu' }, 'library/distros/ubuntu'],
  ['quay.io/library/ubuntu:latest', { registry: 'quay.io', path: 'library/ubuntu', tag: 'latest' }, 'quay.io/library/ubuntu'],
  // other registries, ports, IPs, nested paths
  ['quay.io/openstack.kolla/nova-api:2025.1-ubuntu-noble', { registry: 'quay.io', path: 'openstack.kolla/nova-api', tag: '2025.1-ubuntu-noble' }, 'quay.io/openstack.kolla/nova-api:2025.1-ubuntu-noble'],
  ['localhost:5000/kolla/base:dev', { registry: 'localhost:5000', path: 'kolla/base', tag: 'dev' }, 'localhost:5000/kolla/base:dev'],
  ['localhost/kolla/base', { registry: 'localhost', path: 'kolla/base' }, 'localhost/kolla/base'],
  ['registry.example.com:8443/a/b/c/d:v1', { registry: 'registry.example.com:8443', path: 'a/b/c/d', tag: 'v1' }, 'registry.example.com:8443/a/b/c/d:v1'],
  ['192.168.1.10:5000/kolla/base', { registry: '192.168.1.10:5000', path: 'kolla/base' }, '192.168.1.10:5000/kolla/base'],
  ['[::1]:5000/kolla/base:latest', { registry: '[::1]:5000', path: 'kolla/base', tag: 'latest' }, '[::1]:5000/kolla/base'],
  ['ghcr.io/org/team/image:1.0.0-rc.1', { registry: 'ghcr.io', path: 'org/team/image', tag: '1.0.0-rc.1' }, 'ghcr.io/org/team/image:1.0.0-rc.1'],
  ['Registry.Example.com/kolla/base', { registry: 'Registry.Example.com', path: 'kolla/base' }, 'Registry.Example.com/kolla/base'],
  // registry-1.docker.io is not an alias of Docker Hub for docker, so not for BuildKit's named contexts
  ['registry-1.docker.io/library/ubuntu', { registry: 'registry-1.docker.io', path: 'library/ubuntu' }, 'registry-1.docker.io/library/ubuntu'],
  // a lone "localhost" or host-like name is an official image name, not a registry
  ['localhost', { path: 'library/localhost' }, 'localhost'],
  ['localhost:5000', { path: 'library/localhost', tag: '5000' }, 'localhost:5000'],
  ['example.com', { path: 'library/example.com' }, 'example.com'],
  // an uppercase first component can only be a host
  ['Kolla/base', { registry: 'Kolla', path: 'base' }, 'Kolla/base'],
  // separators in path components
  ['my_org/my__image/with-many---dashes.and.dots', { path: 'my_org/my__image/with-many---dashes.and.dots' }, 'my_org/my__image/with-many---dashes.and.dots'],
  // digests: ":latest" is kept next to a digest; a digest alone gets no tag
  [`ubuntu@${SHA}`, { path: 'library/ubuntu', digest: SHA }, `ubuntu@${SHA}`],
  [`docker.io/library/ubuntu:latest@${SHA}`, { path: 'library/ubuntu', tag: 'latest', digest: SHA }, `ubuntu:latest@${SHA}`],
  [`quay.io/kolla/base:2026.1@${SHA512}`, { registry: 'quay.io', path: 'kolla/base', tag: '2026.1', digest: SHA512 }, `quay.io/kolla/base:2026.1@${SHA512}`],
  [`localhost:5000/base@${SHA}`, { registry: 'localhost:5000', path: 'base', digest: SHA }, `localhost:5000/base@${SHA}`],
  // tags: [\w][\w.-]{0,127}
  [`ubuntu:${'a'.repeat(128)}`, { path: 'library/ubuntu', tag: 'a'.repeat(128) }, `ubuntu:${'a'.repeat(128)}`],
  ['ubuntu:Noble_2024', { path: 'library/ubuntu', tag: 'Noble_2024' }, 'ubuntu:Noble_2024'],
  // invalid
  ['', undefined, undefined],
  ['Ubuntu', undefined, undefined],
  ['kolla/Base:1', undefined, undefined],
  ['quay.io/Kolla/base', undefined, undefined],
  [`ubuntu:${'a'.repeat(129)}`, undefined, undefined],
  ['ubuntu:-dev', undefined, undefined],
  ['ubuntu:.dev', undefined, undefined],
  ['ubuntu:', undefined, undefined],
  ['ubuntu@sha256:abc', undefined, undefined],
  [`ubuntu@sha256:${'A'.repeat(64)}`, undefined, undefined],
  [`ubuntu@md5:${'a'.repeat(32)}`, undefined, undefined],
  [`ubuntu@sha256:${'a'.repeat(63)}`, undefined, undefined],
  ['a'.repeat(64).replace(/a/g, 'f'), undefined, undefined],
  ['kolla/base:1:2', undefined, undefined],
  ['kolla//base', undefined, undefined],
  ['/kolla/base', undefined, undefined],
  ['kolla/base/', undefined, undefined],
  ['-kolla/base', undefined, undefined],
  ['kolla/-base', undefined, undefined],
  ['kolla/base_', undefined, undefined],
  ['kolla/a...b', undefined, undefined],
  ['quay.io:port/kolla/base', undefined, undefined],
  ['kolla base', undefined, undefined],
  ['${REGISTRY}/kolla/base', undefined, undefined],
  [`quay.io/${'a'.repeat(256)}`, undefined, undefined],
];

describe('parseRef and familiarRef', () => {
  it.each(cases)('%s', (raw, parsed, familiar) => {
    expect(parseRef(raw)).toEqual(parsed);
    expect(familiarRef(raw)).toBe(familiar);
  });

  it('accepts a path of 255 characters after the registry', () => {
    expect(parseRef(`quay.io/${'a'.repeat(255)}`)?.path).toHaveLength(255);
  });

  it('gives a familiar form that is a fixed point', () => {
    for (const [raw, , familiar] of cases) {
      if (familiar === undefined) continue;
      expect(familiarRef(familiar), raw).toBe(familiar);
    }
  });
});

describe('formatRef', () => {
  it.each<[ParsedRef, string]>([
    [{ path: 'library/ubuntu', tag: 'latest' }, 'ubuntu:latest'],
    [{ registry: 'docker.io', path: 'library/ubuntu' }, 'ubuntu'],
    [{ registry: 'index.docker.io', path: 'kolla/base', tag: '1' }, 'kolla/base:1'],
    [{ path: 'library/a/b' }, 'library/a/b'],
    [{ registry: 'quay.io', path: 'library/ubuntu', digest: SHA }, `quay.io/library/ubuntu@${SHA}`],
    [{ registry: 'localhost:5000', path: 'kolla/base', tag: 'dev', digest: SHA }, `localhost:5000/kolla/base:dev@${SHA}`],
  ])('%j → %s', (parsed, text) => {
    expect(formatRef(parsed)).toBe(text);
  });
});
