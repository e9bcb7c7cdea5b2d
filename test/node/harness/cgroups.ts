// What the kernel enforces for a container, read from its cgroups (v1, cgroupfs driver:
// kubepods/<qos>/pod<uid>/<id>), against what the stored Pod asks for.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isObject, type JsonObject } from '../../../src/json.js';
import { containerStatus, str } from './pods.js';

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** The resources of init container `name` in the stored Pod. */
export function resourcesOf(pod: JsonObject, name: string): Resources {
  const spec = isObject(pod.spec) && Array.isArray(pod.spec.initContainers) ? pod.spec.initContainers : [];
  const container = spec.filter(isObject).find((c) => c.name === name);
  const resources = isObject(container?.resources) ? container.resources : {};
  const pair = (key: string): { cpu: string; memory: string } => {
    const values = isObject(resources[key]) ? resources[key] : {};
    return { cpu: str(values.cpu), memory: str(values.memory) };
  };
  return { requests: pair('requests'), limits: pair('limits') };
}

const UNITS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

export function bytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|)$/.exec(quantity);
  assert.ok(match, `a memory quantity the suite reads: ${quantity}`);
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? NaN);
}

export function cores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

/** The cgroup limits of the running container `name` of `pod` (a status with its containerID). */
export function cgroupLimits(
  pod: JsonObject,
  name: string,
): { memoryBytes: number; cpuCores: number; cpuShares: number } {
  const id = containerIdOf(pod, name);
  return {
    memoryBytes: cgroupValue('memory', id, 'memory.limit_in_bytes'),
    cpuCores: cgroupValue('cpu', id, 'cpu.cfs_quota_us') / cgroupValue('cpu', id, 'cpu.cfs_period_us'),
    cpuShares: cgroupValue('cpu', id, 'cpu.shares'),
  };
}

/** kubelet's CPU request → cpu.shares (milli-CPU × 1024 / 1000, at least 2). */
export function sharesFor(cpuRequest: string): number {
  return Math.max(2, Math.floor((cores(cpuRequest) * 1000 * 1024) / 1000));
}

/**
 * The environment the kernel holds for the running container `name` of `pod` (its first process
 * in the container's memory cgroup): what kubelet resolved, `valueFrom` included.
 */
export function processEnvironment(pod: JsonObject, name: string): Map<string, string> {
  const id = containerIdOf(pod, name);
  const pid = cgroupFile('memory', id, 'cgroup.procs').split('\n')[0] ?? '';
  assert.match(pid, /^\d+$/, `${name} has a process`);
  const environment = new Map<string, string>();
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) environment.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return environment;
}

function containerIdOf(pod: JsonObject, name: string): string {
  const id = str(containerStatus(pod, name)?.containerID).replace(/^containerd:\/\//, '');
  assert.notEqual(id, '', `${name} has a container ID`);
  return id;
}

function cgroupFile(controller: string, containerId: string, file: string): string {
  const root = `/sys/fs/cgroup/${controller}/kubepods`;
  const found = findDir(root, containerId, 3);
  assert.ok(found, `no cgroup ${containerId} under ${root}`);
  return readFileSync(join(found, file), 'utf8').trim();
}

function cgroupValue(controller: string, containerId: string, file: string): number {
  return Number(cgroupFile(controller, containerId, file));
}

function findDir(dir: string, name: string, depth: number): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === name) return path;
    if (depth > 0) {
      const below = findDir(path, name, depth - 1);
      if (below !== undefined) return below;
    }
  }
  return undefined;
}
