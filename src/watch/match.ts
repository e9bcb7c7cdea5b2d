/** What /proc tells about one process. */
export interface ProcessInfo {
  pid: number;
  /** /proc/<pid>/comm without the newline: the kernel keeps at most 15 bytes of the name. */
  comm: string;
  /** /proc/<pid>/cmdline split on NUL; empty for kernel threads and zombies. */
  argv: readonly string[];
}

/** The kernel's TASK_COMM_LEN is 16 bytes including the terminating NUL. */
export const COMM_MAX = 15;

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? path : path.slice(slash + 1);
}

/** Bytes, not characters: the kernel truncates comm by bytes, possibly inside a UTF-8 sequence. */
function truncatedComm(name: string): string {
  const bytes = Buffer.from(name, 'utf8');
  return bytes.subarray(0, COMM_MAX).toString('utf8');
}

/**
 * Does `name` identify this process? A name with a slash is a path and must equal argv[0]; any
 * other name matches the kernel's process name (comm, also when the kernel truncated a longer
 * name to 15 bytes) or the last path segment of argv[0].
 */
export function matchesProcess(info: ProcessInfo, name: string): boolean {
  const argv0 = info.argv[0] ?? '';
  if (name.includes('/')) return argv0 === name;
  if (info.comm === name || basename(argv0) === name) return true;
  // A long name reaches comm cut to 15 bytes; cut it the same way (a split UTF-8 sequence decodes
  // to U+FFFD on both sides) and compare.
  if (Buffer.byteLength(name, 'utf8') <= COMM_MAX) return false;
  return truncatedComm(name) === info.comm;
}

/** The processes to signal: every match except the agent itself. */
export function selectTargets(
  processes: readonly ProcessInfo[],
  name: string,
  selfPid: number,
): ProcessInfo[] {
  return processes.filter((p) => p.pid !== selfPid && matchesProcess(p, name));
}

export function parseCmdline(raw: Buffer): string[] {
  const parts = raw.toString('utf8').split('\0');
  // A process that rewrote its title leaves NUL padding behind: drop empty tail entries.
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
