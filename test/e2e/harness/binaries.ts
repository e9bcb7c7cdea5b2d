import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoPath } from '../../support/paths.js';

export interface Binaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
}

const BUILD_SCRIPT = repoPath('test/e2e/controlplane/build.sh');

/**
 * Why the control plane cannot be had, or undefined when it can: either Go is installed (to build
 * it) or the binaries are already cached.
 */
export function controlPlaneUnavailable(): string | undefined {
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0) return undefined;
  if (spawnSync('bash', [BUILD_SCRIPT], { stdio: 'ignore' }).status === 0) return undefined;
  return (
    'Go is not installed and the control plane binaries are not cached: the end-to-end suite builds ' +
    'kube-apiserver, kube-controller-manager and etcd with `go` (see test/e2e/controlplane/build.sh)'
  );
}

/**
 * Builds (or finds in the cache) the control plane at the versions pinned in
 * test/e2e/controlplane/go.mod. The build's progress goes to this process's stderr.
 */
export async function controlPlaneBinaries(): Promise<Binaries> {
  const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const dir = out.trim().split('\n').pop();
  if (code !== 0 || !dir) throw new Error(`${BUILD_SCRIPT} failed (exit ${String(code)})`);
  return {
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    etcd: join(dir, 'etcd'),
  };
}
