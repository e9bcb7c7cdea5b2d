// Writes a one-layer container image as a tarball in the layout `docker save` has written since
// Docker 25: an OCI image layout (oci-layout, index.json, blobs/sha256) plus Docker's
// manifest.json pointing at the same blobs. `docker load`, `podman load` and `ctr images import`
// all read it. No engine, no registry: the layer is GNU tar over a root filesystem directory.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ImageConfig {
  user?: string;
  /** KEY=value, as the OCI config holds them. */
  env?: string[];
  workdir?: string;
  entrypoint?: string[];
  cmd?: string[];
  /** "8443" or "8443/tcp". */
  exposedPorts?: string[];
  labels?: Record<string, string>;
}

export interface WrittenImage {
  reference: string;
  path: string;
  /** The manifest's digest, as `ctr images ls` shows it. */
  digest: string;
  /** The uncompressed layer: what the image takes on a node's disk. */
  layerBytes: number;
  archiveBytes: number;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
// Fixed times and owners: the same inputs give the same bytes, so the same digest.
const TAR_FLAGS = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=gnu'];

function tar(args: string[]): void {
  const result = spawnSync('tar', args, { encoding: 'utf8' });
  if (result.error) throw new Error(`tar could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`tar ${args.join(' ')} failed: ${result.stderr}`);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function blob(layout: string, text: string): Promise<{ digest: string; size: number }> {
  const hex = sha256(text);
  await writeFile(join(layout, 'blobs', 'sha256', hex), text);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(text) };
}

function ociConfig(config: ImageConfig, diffId: string): string {
  const exposed = Object.fromEntries(
    (config.exposedPorts ?? []).map((port) => [port.includes('/') ? port : `${port}/tcp`, {}]),
  );
  return JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      ...(config.user === undefined ? {} : { User: config.user }),
      ...(config.env === undefined ? {} : { Env: config.env }),
      ...(config.workdir === undefined ? {} : { WorkingDir: config.workdir }),
      ...(config.entrypoint === undefined ? {} : { Entrypoint: config.entrypoint }),
      ...(config.cmd === undefined ? {} : { Cmd: config.cmd }),
      ...(Object.keys(exposed).length === 0 ? {} : { ExposedPorts: exposed }),
      ...(config.labels === undefined ? {} : { Labels: config.labels }),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'sidekick image builder (one layer)' }],
  });
}

/** Keys in order, so that the same annotations give the same manifest bytes. */
function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Tars `rootfs` into the single layer of image `reference` and writes the archive to `path`. */
export async function writeImageArchive(options: {
  rootfs: string;
  reference: string;
  config: ImageConfig;
  path: string;
  /** The manifest's annotations (org.opencontainers.image.*), which registries show. */
  annotations?: Record<string, string>;
}): Promise<WrittenImage> {
  const layout = await mkdtemp(join(tmpdir(), 'sidekick-image-'));
  try {
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    const layerTmp = join(layout, 'layer.tar');
    tar([...TAR_FLAGS, '-C', options.rootfs, '-cf', layerTmp, '.']);
    const layerHex = await sha256File(layerTmp);
    const layerBytes = (await stat(layerTmp)).size;
    await rename(layerTmp, join(layout, 'blobs', 'sha256', layerHex));
    const config = await blob(layout, ociConfig(options.config, `sha256:${layerHex}`));
    const manifest = await blob(
      layout,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar',
            digest: `sha256:${layerHex}`,
            size: layerBytes,
          },
        ],
        ...(options.annotations === undefined ? {} : { annotations: sorted(options.annotations) }),
      }),
    );
    const tag = options.reference.slice(options.reference.lastIndexOf(':') + 1);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            ...manifest,
            platform: { architecture: 'amd64', os: 'linux' },
            annotations: {
              'io.containerd.image.name': options.reference,
              'org.opencontainers.image.ref.name': tag,
            },
          },
        ],
      }),
    );
    await writeFile(
      join(layout, 'manifest.json'),
      JSON.stringify([
        {
          Config: `blobs/sha256/${config.digest.slice('sha256:'.length)}`,
          RepoTags: [options.reference],
          Layers: [`blobs/sha256/${layerHex}`],
        },
      ]),
    );
    await mkdir(dirname(options.path), { recursive: true });
    const partial = `${options.path}.partial`;
    tar([...TAR_FLAGS, '-C', layout, '-cf', partial, 'oci-layout', 'index.json', 'manifest.json', 'blobs']);
    await rename(partial, options.path);
    return {
      reference: options.reference,
      path: options.path,
      digest: manifest.digest,
      layerBytes,
      archiveBytes: (await stat(options.path)).size,
    };
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}
