import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The repository root: this file runs from dist/bench/. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Linux reports process times in clock ticks; USER_HZ is 100 on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

/** utime + stime of a live process, in seconds (from /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  return statFields(`/proc/${pid}/stat`, 13, 14);
}

/**
 * CPU of this process's children that have exited and been reaped (cutime + cstime): the only way
 * to charge a short-lived child such as the load generator with the whole of its CPU.
 */
export function reapedChildrenCpuSeconds(): number {
  return statFields('/proc/self/stat', 15, 16);
}

function statFields(path: string, a: number, b: number): number {
  const text = readFileSync(path, 'utf8');
  // The command name may contain spaces: the fields start after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const at = (field: number): number => Number(fields[field - 2]);
  return (at(a) + at(b)) / TICKS_PER_SECOND;
}

/** Resident set size of a live process, in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * How often the process's main thread was taken off the CPU while it still had work: the count of
 * a busy shared machine (other tenants), not of the process itself.
 */
export function preemptions(pid: number): number {
  const match = /^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] ? Number(match[1]) : 0;
}

export function load1(): number {
  return loadavg()[0] ?? 0;
}

export interface Placement {
  /** CPUs for the servers under test and for the load generator, or undefined when not pinned. */
  server?: string;
  client?: string;
  note: string;
}

/**
 * On two or more CPUs, the server under test gets CPU 0 and the load generator CPU 1 (taskset), so
 * that the two never take turns on one core; on one CPU, without taskset, or when asked, nothing
 * is pinned. Pinned, the server's V8 helper threads (parallel scavenges, concurrent marking) share
 * its one CPU, as in a Pod limited to one CPU.
 */
export function choosePlacement(unpinned = false): Placement {
  const count = cpus().length;
  if (unpinned) return { note: `${count} CPUs, nothing pinned (--unpinned)` };
  const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  if (count >= 2 && taskset) {
    return {
      server: '0',
      client: '1',
      note: `${count} CPUs: server pinned to CPU 0, load generator to CPU 1 (taskset)`,
    };
  }
  return { note: `${count} CPU(s)${taskset ? '' : ', no taskset'}: nothing pinned` };
}

/** Spawns `command`, on the given CPU list when there is one. */
export function spawnOn(
  cpu: string | undefined,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; stdio?: ('pipe' | 'ignore' | 'inherit')[] } = {},
): ChildProcess {
  const [file, argv] = cpu === undefined ? [command, args] : ['taskset', ['-c', cpu, command, ...args]];
  return spawn(file, argv, {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a child's stdout and stderr; resolves on exit; kills it when `timeoutMs` passes. */
export function finish(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process ${child.pid ?? '?'} still running after ${timeoutMs} ms: killed`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
