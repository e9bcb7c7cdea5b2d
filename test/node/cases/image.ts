// The sidekick image archive (`npm run image`) is what the engines read: containerd imported it
// for the node (the config-watcher Pods run it), and skopeo, which reads images with the library
// that `podman load` uses, takes it both as a Docker archive (what `docker load` reads) and as an
// OCI archive, with the Dockerfile's configuration.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFinalStage } from '../../../scripts/image/dockerfile.js';
import { repoPath } from '../../support/paths.js';
import type { NodeEnvironment } from '../harness/environment.js';

interface Inspected {
  Labels?: Record<string, string>;
  Env?: string[];
  Layers?: string[];
}

function inspect(transport: string, path: string, config = false): unknown {
  const result = spawnSync('skopeo', ['inspect', ...(config ? ['--config'] : []), `${transport}:${path}`], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `skopeo inspect ${transport}:${path}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

export function imageCases(env: NodeEnvironment): void {
  env.test(
    'the sidekick image archive reads as a Docker archive and as an OCI archive, configured as the Dockerfile says',
    () => {
      const image = env.setup.images.find((i) => i.template === 'config-watcher');
      assert.ok(image, 'the sidekick image was built');
      const stage = readFinalStage(readFileSync(repoPath('Dockerfile'), 'utf8'));
      for (const transport of ['docker-archive', 'oci-archive']) {
        const manifest = inspect(transport, image.path) as Inspected;
        assert.deepEqual(manifest.Labels, stage.labels, transport);
        assert.equal(manifest.Layers?.length, 1, transport);
        const config = inspect(transport, image.path, true) as {
          config?: {
            User?: string;
            Entrypoint?: string[];
            Cmd?: string[];
            WorkingDir?: string;
            Env?: string[];
          };
        };
        const c = config.config ?? {};
        assert.deepEqual(
          { user: c.User, entrypoint: c.Entrypoint, cmd: c.Cmd, workdir: c.WorkingDir },
          { user: stage.user, entrypoint: stage.entrypoint, cmd: stage.cmd, workdir: stage.workdir },
          transport,
        );
      }
      const listed = env.node.images();
      assert.ok(listed.includes(image.reference), `containerd has ${image.reference}: ${listed.join(', ')}`);
      process.stderr.write(
        `image ${image.reference}: ${(image.layerBytes / 2 ** 20).toFixed(1)} MiB uncompressed\n`,
      );
      return Promise.resolve();
    },
  );
}
