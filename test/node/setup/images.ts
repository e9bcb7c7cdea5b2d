// The images the node suite imports into its containerd, built without an engine or a registry:
// the sidekick image (`npm run image`'s builder, from the Dockerfile), the real Cloud SQL Auth
// Proxy and OpenTelemetry Collector at the templates' versions, named stand-ins for Vault Agent,
// Fluent Bit and git-sync (with Debian's real git), and the suite's own pause and app images. Each program image carries the exact
// reference its template names, so the templates run unchanged.
import { spawnSync } from 'node:child_process';
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

const GIT = '/usr/bin/git';
const GIT_REMOTE_HTTP = '/usr/lib/git-core/git-remote-http';

/** The shared libraries (and the loader) that `ldd` says these programs load. */
function libraries(programs: readonly string[]): string[] {
  const result = spawnSync('ldd', programs, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ldd ${programs.join(' ')} failed: ${result.stderr}`);
  const paths = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1] !== undefined) paths.add(match[1]);
  }
  return [...paths].sort();
}

/**
 * Debian's git as git-sync's image carries it: the git binary, its https transport, and every
 * library they load, at the paths the loader looks them up by. git runs its subcommands through
 * its exec path (/usr/lib/git-core), where `git` is itself.
 */
function debianGit(): Entry[] {
  return [
    [GIT, GIT],
    ['../../bin/git', '/usr/lib/git-core/git', 'link'],
    [GIT_REMOTE_HTTP, GIT_REMOTE_HTTP],
    ['git-remote-http', '/usr/lib/git-core/git-remote-https', 'link'],
    ...libraries([GIT, GIT_REMOTE_HTTP]).map((lib): Entry => [lib, lib]),
  ];
}

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
  // kubernetes/git-sync's module is refused by the Go module proxy (docs/templates.md#git-sync).
  await add(
    'git-sync',
    imageFrom(
      out,
      required(images, 'git-sync'),
      [[programs.testbin, '/git-sync'], ...debianGit()],
      { entrypoint: ['/git-sync'], user: '65533:65533', env: ['PATH=/usr/bin:/bin', 'HOME=/tmp'] },
      'git-sync',
    ),
  );
  const sidekick = required(images, 'config-watcher');
  const image = await buildSidekickImage(repoPath(), join(out, 'sidekick.tar'), sidekick);
  built.push({ ...image, standIn: '', template: 'config-watcher' });
  return built;
}
