import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The cgroup v1 memory hierarchy, where kubelet (cgroupfs driver) puts each Pod. */
const MEMORY = '/sys/fs/cgroup/memory/kubepods';

export interface CgroupMemory {
  /** memory.usage_in_bytes: what the cgroup is charged, page cache included. */
  usage: number;
  /** usage − total_inactive_file, as cAdvisor and kubelet compute the working set. */
  workingSet: number;
  /** total_rss (anonymous memory) and total_cache (file pages first touched by this cgroup). */
  rss: number;
  cache: number;
}

function readNumber(path: string): number {
  return Number(readFileSync(path, 'utf8').trim());
}

function stat(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(join(dir, 'memory.stat'), 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (key !== undefined && value !== undefined) out[key] = Number(value);
  }
  return out;
}

export function cgroupMemory(dir: string): CgroupMemory {
  const usage = readNumber(join(dir, 'memory.usage_in_bytes'));
  const s = stat(dir);
  return {
    usage,
    workingSet: Math.max(0, usage - (s.total_inactive_file ?? 0)),
    rss: s.total_rss ?? 0,
    cache: s.total_cache ?? 0,
  };
}

/** All Pods of the node together (the kubepods cgroup). */
export function kubepodsMemory(): CgroupMemory {
  return cgroupMemory(MEMORY);
}

/** The Pod's cgroup: kubepods/pod<uid> (Guaranteed) or kubepods/<qos>/pod<uid>. */
export function podCgroup(uid: string): string {
  for (const qos of ['', 'burstable', 'besteffort']) {
    const dir = join(MEMORY, qos, `pod${uid}`);
    if (existsSync(dir)) return dir;
  }
  throw new Error(`no memory cgroup for Pod ${uid} under ${MEMORY}`);
}

/** The processes of a container's cgroup (cgroupfs driver: pod<uid>/<container id>). */
export function containerPids(podDir: string, containerId: string): number[] {
  const text = readFileSync(join(podDir, containerId, 'cgroup.procs'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

export interface ProcessMemory {
  rss: number;
  pss: number;
  /** Private_Clean + Private_Dirty: what this process alone keeps resident. */
  private: number;
  /** Shared_Clean + Shared_Dirty: mostly the Node binary's pages every watcher shares. */
  shared: number;
  /** Anonymous memory (the heap and stacks): private whoever else maps the binary. */
  anonymous: number;
  privateDirty: number;
}

/** From /proc/PID/smaps_rollup, in bytes. */
export function processMemory(pid: number): ProcessMemory {
  const fields: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${String(pid)}/smaps_rollup`, 'utf8').split('\n')) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (match?.[1] !== undefined) fields[match[1]] = Number(match[2]) * 1024;
  }
  const at = (key: string): number => fields[key] ?? 0;
  return {
    rss: at('Rss'),
    pss: at('Pss'),
    private: at('Private_Clean') + at('Private_Dirty'),
    shared: at('Shared_Clean') + at('Shared_Dirty'),
    anonymous: at('Anonymous'),
    privateDirty: at('Private_Dirty'),
  };
}

export function rss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

/** utime + stime of a process, in seconds (USER_HZ 100). */
export function processCpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** When a process started, in ms since the epoch (10 ms resolution: clock ticks since boot). */
export function processStartMs(pid: number): number {
  const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
  const text = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(btime) * 1000 + (Number(fields[19]) / 100) * 1000;
}

export interface CpuFigures {
  /** cpuacct.usage: CPU the container used since it started, in ms. */
  usedMs: number;
  /** cpu.stat: periods in which the CFS quota (the CPU limit) stopped it, and for how long. */
  throttledPeriods: number;
  throttledMs: number;
}

/** The CPU of a container's cgroup (cgroup v1 cpu and cpuacct hierarchies). */
export function containerCpu(podDir: string, containerId: string): CpuFigures {
  const relative = podDir.slice(podDir.indexOf('/kubepods'));
  const cpu = join('/sys/fs/cgroup/cpu', relative, containerId);
  const acct = join('/sys/fs/cgroup/cpuacct', relative, containerId);
  const fields: Record<string, number> = {};
  for (const line of readFileSync(join(cpu, 'cpu.stat'), 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (key !== undefined && value !== undefined) fields[key] = Number(value);
  }
  return {
    usedMs: readNumber(join(acct, 'cpuacct.usage')) / 1e6,
    throttledPeriods: fields.nr_throttled ?? 0,
    throttledMs: (fields.throttled_time ?? 0) / 1e6,
  };
}
