import type { LoadConfig, LoadResult } from './autocannon-child.js';
import { cpuSeconds, finish, preemptions, spawnOn } from './proc.js';
import { isObject } from '../src/json.js';

export interface SaturatedRun extends LoadResult {
  /** The server's CPU over the run, in seconds, and per request in microseconds. */
  serverCpuSeconds: number;
  serverCpuUsPerRequest: number;
  /** Share of one CPU the server and the generator used over the run. */
  serverCpuShare: number;
  generatorCpuShare: number;
  /** Times per second the server's main thread was preempted with work to do. */
  serverPreemptionsPerSecond: number;
}

function isLoadResult(value: unknown): value is LoadResult {
  return isObject(value) && typeof value.requests === 'number' && typeof value.rps === 'number';
}

/** One autocannon run in its own process against a server process, with both CPUs counted. */
export async function runAutocannon(config: LoadConfig, cpu: string | undefined): Promise<LoadResult> {
  const child = spawnOn(cpu, process.execPath, ['dist/bench/autocannon-child.js', JSON.stringify(config)]);
  const done = await finish(child, (config.durationSeconds + 30) * 1000);
  if (done.code !== 0) throw new Error(`autocannon failed (${done.code}): ${done.stderr.trim()}`);
  const parsed: unknown = JSON.parse(done.stdout.trim().split('\n').pop() ?? '');
  if (!isLoadResult(parsed)) throw new Error(`autocannon gave no result: ${done.stdout}`);
  return parsed;
}

export async function saturate(
  config: LoadConfig,
  serverPid: number,
  cpu: string | undefined,
): Promise<SaturatedRun> {
  const before = cpuSeconds(serverPid);
  const preemptedBefore = preemptions(serverPid);
  const result = await runAutocannon(config, cpu);
  const serverCpuSeconds = cpuSeconds(serverPid) - before;
  const preempted = preemptions(serverPid) - preemptedBefore;
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(
      `load against ${config.url} failed: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`,
    );
  }
  return {
    ...result,
    serverCpuSeconds,
    serverCpuUsPerRequest: (serverCpuSeconds / Math.max(1, result.requests)) * 1e6,
    serverCpuShare: serverCpuSeconds / result.seconds,
    generatorCpuShare: result.generatorCpuSeconds / result.seconds,
    serverPreemptionsPerSecond: preempted / result.seconds,
  };
}
