import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SIDEKICK_MAIN } from '../../support/paths.js';

const execFileAsync = promisify(execFile);

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The built `sidekick` CLI as a separate process. Only PATH and the given HOME are passed on, so
 * that no KUBECONFIG or ~/.kube/config of the machine running the tests leaks in.
 */
export async function runSidekick(args: readonly string[], home: string): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [SIDEKICK_MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: home },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: unknown; stderr?: unknown };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: String(failed.stdout), stderr: String(failed.stderr) };
  }
}
