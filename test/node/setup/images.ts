// The images the node suite imports into its containerd, built without an engine or a registry:
// the sidekick image (`npm run image`'s builder, from the Dockerfile), the real Cloud SQL Auth
// Proxy and OpenTelemetry Collector at the templates' versions, named stand-ins for Vault Agent
// and Fluent Bit, and the suite's own pause and app images. Each program image carries the exact
// reference its template names, so the templates run unchanged.
import { mkdtemp, mkdir, copyFile, symlink, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeImageArchive, type ImageConfig, type WrittenImage } from '../../../scripts/image/archive.js';
import { buildSidekickImage } from '../../../scripts/image/sidekick-image.js';
import { loadTemplateDir } from '../../../src/templates/load.js';
import { repoPath } from '../../support/paths.js';
import type { Programs } from './programs.js';

export const PAUSE_IMAGE = 'sidekick.test/pause:1';
export const APP_IMAGE = 'sidekick.test/app:1';
const BUSYBOX = '/usr/bin/busybox';
const APPLETS = [
  'sh',
  'test',
  '[',
  'cat',
  'ls',
  'sleep',
  'echo',
  'printf',
  'mkdir',
  'env',
  'id',
  'tail',
  'head',
  'wget',
];

export interface BuiltImage extends WrittenImage {
  /** Empty for a real program; otherwise what it stands in for. */
  standIn: string;
  /** The template that names this reference, if any. */
  template?: string;
}

/**
 * Where an image of a template comes from: the container image each built-in template names, as
 * the server loads them (config-watcher's '{{ sidekick.image }}' is the default --image).
 */
export async function templateImages(): Promise<Map<string, string>> {
  const load = await loadTemplateDir(repoPath('templates'));
  if (!load.ok) throw new Error(`the built-in templates are invalid: ${load.problems.join('; ')}`);
  const images = new Map<string, string>();
  for (const [name, template] of load.set.templates) {
    const image = template.container.image;
    if (typeof image === 'string') images.set(name, image);
  }
  return images;
}

/** The name containerd's CRI looks an image up by: Docker Hub's short names spelled out. */
export function normalizedReference(reference: string): string {
  const first = reference.split('/')[0] ?? '';
  if (reference.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return reference;
  return reference.includes('/') ? `docker.io/${reference}` : `docker.io/library/${reference}`;
}

export function tagOf(reference: string): string {
  return reference.slice(reference.lastIndexOf(':') + 1);
}

type Entry = [source: string, target: string] | [symlinkTo: string, target: string, 'link'];

async function imageFrom(
  out: string,
  reference: string,
  entries: Entry[],
  config: ImageConfig,
  standIn: string,
): Promise<BuiltImage> {
  const rootfs = await mkdtemp(join(tmpdir(), 'sidekick-test-rootfs-'));
  try {
    await chmod(rootfs, 0o755);
    for (const [source, target, kind] of entries) {
      const path = join(rootfs, target);
      await mkdir(dirname(path), { recursive: true });
      if (kind === 'link') await symlink(source, path);
      else {
        await copyFile(source, path);
        await chmod(path, 0o755);
      }
    }
    const file = join(out, `${reference.replace(/[^A-Za-z0-9.-]+/g, '_')}.tar`);
    const labels = { 'org.opencontainers.image.title': standIn === '' ? reference : `${standIn} (stand-in)` };
    const written = await writeImageArchive({
      rootfs,
      reference: normalizedReference(reference),
      config: { labels, ...config },
      path: file,
    });
    return { ...written, standIn };
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

const busybox = (dir: string): Entry[] => [
  [BUSYBOX, `${dir}/busybox`],
  ...APPLETS.map((applet): Entry => ['busybox', `${dir}/${applet}`, 'link']),
];

function required(images: Map<string, string>, template: string): string {
  const image = images.get(template);
  if (image === undefined) throw new Error(`the built-in template ${template} names no image`);
  return image;
}

export async function buildImages(out: string, programs: Programs): Promise<BuiltImage[]> {
  await mkdir(out, { recursive: true });
  const images = await templateImages();
  const built: BuiltImage[] = [];
  const add = async (template: string | undefined, image: Promise<BuiltImage>): Promise<void> => {
    const done = await image;
    built.push(template === undefined ? done : { ...done, template });
  };
  await add(
    undefined,
    imageFrom(
      out,
      PAUSE_IMAGE,
      [[programs.testbin, '/pause']],
      { entrypoint: ['/pause'], user: '65535:65535' },
      '',
    ),
  );
  await add(
    undefined,
    imageFrom(
      out,
      APP_IMAGE,
      [
        ...busybox('/bin'),
        [programs.testbin, '/bin/testbin'],
        ...['app', 'hup-app', 'reload-app', 'otlp-sink'].map((name): Entry => [
          'testbin',
          `/bin/${name}`,
          'link',
        ]),
      ],
      { env: ['PATH=/bin'], user: '1000:1000' },
      '',
    ),
  );
  // The real programs, laid out as their published images are (distroless, numeric users).
  await add(
    'db-proxy',
    imageFrom(
      out,
      required(images, 'db-proxy'),
      [[programs.cloudSqlProxy, '/cloud-sql-proxy']],
      { entrypoint: ['/cloud-sql-proxy'], user: '65532:65532' },
      '',
    ),
  );
  await add(
    'otel-collector',
    imageFrom(
      out,
      required(images, 'otel-collector'),
      [[programs.otelcol, '/otelcol']],
      { entrypoint: ['/otelcol'], user: '10001:10001' },
      '',
    ),
  );
  // Stand-ins, named as such in their label and in every line they print.
  await add(
    'vault-agent',
    imageFrom(
      out,
      required(images, 'vault-agent'),
      [...busybox('/bin'), [programs.testbin, '/bin/vault']],
      { env: ['PATH=/bin'], user: '100:1000', entrypoint: ['/bin/vault'] },
      'Vault Agent',
    ),
  );
  await add(
    'log-shipper',
    imageFrom(
      out,
      required(images, 'log-shipper'),
      [[programs.testbin, '/fluent-bit/bin/fluent-bit']],
      { entrypoint: ['/fluent-bit/bin/fluent-bit'] },
      'Fluent Bit',
    ),
  );
  const sidekick = required(images, 'config-watcher');
  const image = await buildSidekickImage(repoPath(), join(out, 'sidekick.tar'), sidekick);
  built.push({ ...image, standIn: '', template: 'config-watcher' });
  return built;
}
