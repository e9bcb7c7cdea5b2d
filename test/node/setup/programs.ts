// The programs the node suite runs, built from Go modules into a cache outside the repository
// (keyed by version, or by the hash of the suite's own sources) that later runs reuse.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../../../scripts/image/sidekick-image.js';
import { repoPath } from '../../support/paths.js';

export interface Programs {
  kubelet: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
  /** Cloud SQL Auth Proxy v2, the real program at the db-proxy template's version. */
  cloudSqlProxy: string;
  /** The OpenTelemetry Collector at the otel-collector template's version (test/node/programs/otelcol). */
  otelcol: string;
  /** pause, the app stand-ins and the named stand-ins (test/node/programs/testbin). */
  testbin: string;
}

function go(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): void {
  const started = Date.now();
  process.stderr.write(`go ${args.join(' ')} (in ${cwd})\n`);
  const result = spawnSync('go', args, {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CGO_ENABLED: '0', ...env },
  });
  if (result.error) throw new Error(`go could not run (is Go installed?): ${result.error.message}`);
  if (result.status !== 0) throw new Error(`go ${args.join(' ')} failed (exit ${String(result.status)})`);
  process.stderr.write(`  done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

/** Builds `output` with `build(tmp)` unless it is cached; the cache only ever holds whole files. */
async function cached(output: string, build: (tmp: string) => void): Promise<string> {
  if (existsSync(output)) return output;
  await mkdir(join(output, '..'), { recursive: true });
  const tmp = `${output}.tmp.${String(process.pid)}`;
  try {
    build(tmp);
    await rename(tmp, output);
  } finally {
    await rm(tmp, { force: true });
  }
  return output;
}

function sourceHash(dir: string): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).sort()) {
    if (/\.(go|mod|sum)$/.test(file)) hash.update(file).update(readFileSync(join(dir, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

function requiredVersion(goMod: string, module: string): string | undefined {
  const line = readFileSync(goMod, 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith(`${module} `));
  return line?.trim().split(/\s+/)[1];
}

function kubernetesBinaries(): Pick<
  Programs,
  'kubelet' | 'kubeApiserver' | 'kubeControllerManager' | 'etcd'
> {
  const script = repoPath('test/e2e/controlplane/build.sh');
  const result = spawnSync('bash', [script, 'kubelet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const dir = result.stdout.trim().split('\n').pop();
  if (result.status !== 0 || dir === undefined || dir === '') throw new Error(`${script} kubelet failed`);
  return {
    kubelet: join(dir, 'kubelet'),
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    etcd: join(dir, 'etcd'),
  };
}

/** Versions are the templates' image tags: `2.27.0` → module version `v2.27.0`. */
export async function buildPrograms(versions: { cloudSqlProxy: string; otelcol: string }): Promise<Programs> {
  const cache = cacheDir();
  const ldflags = '-s -w';
  const cloudSqlProxy = await cached(
    join(cache, `cloud-sql-proxy-v${versions.cloudSqlProxy}`, 'cloud-sql-proxy'),
    (tmp) => {
      // The proxy's own go.mod and go.sum, unchanged: `go install module@version` of its main package.
      const bin = `${tmp}.d`;
      go(
        [
          'install',
          '-trimpath',
          `-ldflags=${ldflags}`,
          `github.com/GoogleCloudPlatform/cloud-sql-proxy/v2@v${versions.cloudSqlProxy}`,
        ],
        cache,
        {
          GOBIN: bin,
        },
      );
      renameSync(join(bin, 'cloud-sql-proxy'), tmp);
      rmSync(bin, { recursive: true, force: true });
    },
  );
  const otelDir = repoPath('test/node/programs/otelcol');
  const pinned = requiredVersion(join(otelDir, 'go.mod'), 'go.opentelemetry.io/collector/otelcol');
  if (pinned !== `v${versions.otelcol}`)
    throw new Error(
      `the otel-collector template runs ${versions.otelcol} but test/node/programs/otelcol/go.mod builds ${String(pinned)}: move its collector modules to v${versions.otelcol} (go get … && go mod tidy)`,
    );
  const otelcol = await cached(
    join(cache, `otelcol-v${versions.otelcol}-${sourceHash(otelDir)}`, 'otelcol'),
    (tmp) => {
      go(
        ['build', '-trimpath', `-ldflags=${ldflags} -X main.version=${versions.otelcol}`, '-o', tmp, '.'],
        otelDir,
      );
    },
  );
  const testbinDir = repoPath('test/node/programs/testbin');
  const testbin = await cached(join(cache, `testbin-${sourceHash(testbinDir)}`, 'testbin'), (tmp) => {
    go(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', tmp, '.'], testbinDir);
  });
  return { ...kubernetesBinaries(), cloudSqlProxy, otelcol, testbin };
}
