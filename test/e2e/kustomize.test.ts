// Every kustomization under deploy/ built by the real kustomize at the version kubectl 1.32
// bundles and at the newest: both must build (several `$patch: delete` documents in one file
// panicked 5.5.0) and agree.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { sidekickImages } from '../tools/images.js';
import { KUSTOMIZE_VERSIONS, kustomizeBuild, toolPath } from '../tools/tools.js';
import { repoPath } from '../support/paths.js';

function kustomizations(dir: string): string[] {
  const here = existsSync(join(dir, 'kustomization.yaml')) ? [dir] : [];
  return [
    ...here,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => kustomizations(join(dir, e.name))),
  ];
}

void describe('kustomize', () => {
  const dirs = kustomizations(repoPath('deploy'));
  void it('finds the base and the overlays', () => {
    assert.ok(dirs.includes(repoPath('deploy/base')));
    assert.ok(dirs.includes(repoPath('deploy/overlays/cert-manager')));
  });
  for (const version of KUSTOMIZE_VERSIONS) {
    void it(`${version} is the module built`, (t) => {
      const info = execFileSync('go', ['version', '-m', toolPath('kustomize', version)], {
        encoding: 'utf8',
      });
      assert.match(
        info,
        new RegExp(`\\tmod\\tsigs\\.k8s\\.io/kustomize/kustomize/v5\\t${version.replace(/\./g, '\\.')}\\t`),
      );
      t.diagnostic(`kustomize ${version}: ${toolPath('kustomize', version)}`);
    });
  }
  for (const dir of dirs) {
    const name = dir.slice(repoPath('deploy').length + 1);
    void it(`builds deploy/${name} with ${KUSTOMIZE_VERSIONS.join(' and ')}, to the same objects`, () => {
      const [first, ...rest] = KUSTOMIZE_VERSIONS.map((version) => kustomizeBuild(dir, version));
      assert.ok(first && first.length > 0);
      for (const other of rest) assert.deepEqual(other, first);
    });
  }
});

void describe("one image reference: an overlay's `images:`", () => {
  void it('reaches the Deployment, the certs Job, SIDEKICK_IMAGE and so config-watcher', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sidekick-kustomize-'));
    try {
      for (const [name, base] of [
        ['base', 'deploy/base'],
        ['cert-manager', 'deploy/overlays/cert-manager'],
      ] as const) {
        const overlay = join(dir, name);
        await mkdir(overlay);
        await writeFile(
          join(overlay, 'kustomization.yaml'),
          stringify({
            resources: [relative(overlay, repoPath(base))],
            images: [{ name: 'ghcr.io/sidekick-dev/sidekick', newName: 'registry.example/sk', newTag: '9' }],
          }),
        );
        for (const version of KUSTOMIZE_VERSIONS) {
          const objects = kustomizeBuild(overlay, version);
          const references = sidekickImages(objects);
          const what = `${name} with kustomize ${version}`;
          assert.ok(references.length >= (name === 'base' ? 4 : 3), `${what}: ${JSON.stringify(references)}`);
          for (const reference of references)
            assert.equal(reference.image, 'registry.example/sk:9', `${what}: ${reference.where}`);
          assert.doesNotMatch(stringify(objects), /ghcr\.io\/sidekick-dev/, what);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
