// The image builder (scripts/image) against the Dockerfile it reads: what it understands, what it
// refuses, and the repository's own Dockerfile, which must stay buildable without an engine and
// agree with the config-watcher template that runs the image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeImageArchive } from '../../scripts/image/archive.js';
import { readFinalStage } from '../../scripts/image/dockerfile.js';
import { loadTemplateDir } from '../../src/templates/load.js';
import { repoPath } from '../support/paths.js';

describe('readFinalStage', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    'ARG NODE_VERSION=26.1.0',
    'FROM node:${NODE_VERSION}-bookworm-slim AS build',
    'RUN echo only in the build stage',
    'FROM scratch',
    'COPY --from=build /a /b \\',
    '  /c/',
    'COPY templates /app/templates',
    'ENV A=1 B="two words"',
    'WORKDIR /app',
    'USER 65532:65532',
    'EXPOSE 8443 9090',
    'LABEL x.y=z',
    'ENTRYPOINT ["/usr/local/bin/node", "/app/main.js"]',
    'CMD ["serve"]',
  ].join('\n');

  it('reads the last stage: copies, configuration, and the ARGs before the first FROM', () => {
    const stage = readFinalStage(text);
    assert.equal(stage.base, 'scratch');
    assert.deepEqual(stage.args, { NODE_VERSION: '26.1.0' });
    assert.deepEqual(stage.copies, [
      { from: 'build', sources: ['/a', '/b'], destination: '/c/' },
      { from: undefined, sources: ['templates'], destination: '/app/templates' },
    ]);
    assert.deepEqual(stage.env, { A: '1', B: 'two words' });
    assert.equal(stage.workdir, '/app');
    assert.equal(stage.user, '65532:65532');
    assert.deepEqual(stage.exposed, ['8443', '9090']);
    assert.deepEqual(stage.labels, { 'x.y': 'z' });
    assert.deepEqual(stage.entrypoint, ['/usr/local/bin/node', '/app/main.js']);
    assert.deepEqual(stage.cmd, ['serve']);
  });

  const refused: [string, string, RegExp][] = [
    ['RUN in the final stage', 'FROM scratch\nRUN true', /Dockerfile:2: RUN in the final stage/],
    ['a shell-form ENTRYPOINT', 'FROM scratch\nENTRYPOINT node main.js', /exec form/],
    ['COPY --chown', 'FROM scratch\nCOPY --chown=1:1 a /b', /COPY --chown=1:1 is not understood/],
    ['several sources to a file', 'FROM scratch\nCOPY a b /c', /destination ending in \//],
    ['an ARG without a default', 'ARG V\nFROM node:${V}', /ARG V has no default/],
    ['no FROM', 'ENV A=1', /no FROM/],
  ];
  for (const [what, dockerfile, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => readFinalStage(dockerfile), message);
    });
  }
});

describe("the repository's Dockerfile", () => {
  it('is one the builder can follow, and config-watcher runs its entry point', async () => {
    const stage = readFinalStage(await readFile(repoPath('Dockerfile'), 'utf8'));
    const version = (JSON.parse(await readFile(repoPath('package.json'), 'utf8')) as { version: string })
      .version;
    assert.equal(stage.base, 'scratch');
    assert.match(stage.args.NODE_VERSION ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(stage.labels['org.opencontainers.image.version'], version);
    assert.match(stage.user, /^\d+:\d+$/, 'a numeric user, for runAsNonRoot');
    // As the server loads it: the template names sidekick's image by the one placeholder.
    const load = await loadTemplateDir(repoPath('templates'));
    assert.ok(load.ok);
    const container = load.set.templates.get('config-watcher')?.container;
    assert.ok(container);
    // The entry point's node and script, with V8 flags for the watcher allowed between them.
    const command = container.command as string[];
    const [node, ...rest] = stage.entrypoint;
    assert.equal(command[0], node);
    assert.deepEqual(command.slice(-rest.length), rest);
    for (const flag of command.slice(1, -rest.length))
      assert.match(flag, /^--[a-z][a-z0-9-]*(=[a-z0-9]+)?$/, `a V8 flag: ${flag}`);
    assert.equal(container.image, `ghcr.io/sidekick-dev/sidekick:${version}`);
    const other = await loadTemplateDir(repoPath('templates'), { image: 'registry.example/sk:1' });
    assert.ok(other.ok);
    assert.equal(other.set.templates.get('config-watcher')?.container.image, 'registry.example/sk:1');
  });
});

describe('writeImageArchive', () => {
  it('writes the same bytes for the same files, in the layout docker save writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sidekick-image-test-'));
    try {
      await mkdir(join(dir, 'rootfs', 'bin'), { recursive: true });
      await writeFile(join(dir, 'rootfs', 'bin', 'hello'), '#!/bin/true\n', { mode: 0o755 });
      const write = (name: string): ReturnType<typeof writeImageArchive> =>
        writeImageArchive({
          rootfs: join(dir, 'rootfs'),
          reference: 'example.test/hello:1',
          config: { user: '1000', entrypoint: ['/bin/hello'] },
          path: join(dir, name),
          annotations: { 'org.opencontainers.image.version': '1', 'org.opencontainers.image.source': 'x' },
        });
      const [a, b] = [await write('a.tar'), await write('b.tar')];
      assert.equal(a.digest, b.digest);
      assert.deepEqual(await readFile(a.path), await readFile(b.path));
      const listing = spawnSync('tar', ['-tf', a.path], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
      assert.deepEqual(
        listing.filter((e) => !e.startsWith('blobs/')),
        ['oci-layout', 'index.json', 'manifest.json'],
      );
      const extract = join(dir, 'x');
      await mkdir(extract);
      spawnSync('tar', ['-xf', a.path, '-C', extract]);
      const [entry] = JSON.parse(await readFile(join(extract, 'manifest.json'), 'utf8')) as {
        Config: string;
        RepoTags: string[];
        Layers: string[];
      }[];
      assert.ok(entry);
      assert.deepEqual(entry.RepoTags, ['example.test/hello:1']);
      const config = JSON.parse(await readFile(join(extract, entry.Config), 'utf8')) as {
        config: { User: string };
        rootfs: { diff_ids: string[] };
      };
      const index = JSON.parse(await readFile(join(extract, 'index.json'), 'utf8')) as {
        manifests: { digest: string }[];
      };
      const manifestBlob = join(extract, 'blobs', 'sha256', (index.manifests[0]?.digest ?? '').slice(7));
      const manifest = JSON.parse(await readFile(manifestBlob, 'utf8')) as {
        annotations: Record<string, string>;
      };
      assert.deepEqual(Object.entries(manifest.annotations), [
        ['org.opencontainers.image.source', 'x'],
        ['org.opencontainers.image.version', '1'],
      ]);
      const layerPath = entry.Layers[0] ?? '';
      assert.equal(config.config.User, '1000');
      assert.equal(config.rootfs.diff_ids[0], `sha256:${layerPath.split('/').pop() ?? ''}`);
      const layer = spawnSync('tar', ['-tvf', join(extract, layerPath)], { encoding: 'utf8' }).stdout;
      assert.match(layer, /-rwxr-xr-x 0\/0 .* \.\/bin\/hello/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
