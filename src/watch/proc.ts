import { parseCmdline, type ProcessInfo } from './match.js';

// By process.getBuiltinModule, not `import`, as the rest of `sidekick watch`: see health.ts.
const { readdir, readFile } = process.getBuiltinModule('node:fs/promises');
const paths = process.getBuiltinModule('node:path');
const join = (...parts: string[]): string => paths.join(...parts);

/**
 * Every process visible in this PID namespace (with shareProcessNamespace: every container of the
 * Pod). Processes that exit while being read are left out.
 */
export async function listProcesses(procRoot = '/proc'): Promise<ProcessInfo[]> {
  const entries = await readdir(procRoot);
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number);
  const infos = await Promise.all(pids.map((pid) => readProcess(procRoot, pid)));
  return infos.filter((p): p is ProcessInfo => p !== undefined);
}

async function readProcess(procRoot: string, pid: number): Promise<ProcessInfo | undefined> {
  try {
    const [comm, cmdline] = await Promise.all([
      readFile(join(procRoot, String(pid), 'comm'), 'utf8'),
      readFile(join(procRoot, String(pid), 'cmdline')),
    ]);
    return { pid, comm: comm.replace(/\n$/, ''), argv: parseCmdline(cmdline) };
  } catch {
    return undefined;
  }
}

/** The real UID a process runs as, from the `Uid:` line of /proc/<pid>/status. */
export async function processUid(pid: number, procRoot = '/proc'): Promise<number | undefined> {
  try {
    const status = await readFile(join(procRoot, String(pid), 'status'), 'utf8');
    const line = /^Uid:\s+(\d+)/m.exec(status);
    return line?.[1] === undefined ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}
