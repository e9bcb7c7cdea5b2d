// The load generator's process: one autocannon run, its result as one JSON line on stdout.
// It runs apart from the orchestrator so that it can be pinned to its own CPU and its CPU counted.
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { isObject } from '../src/json.js';

export interface LoadConfig {
  url: string;
  /** Request bodies, sent in turn on each connection. */
  bodyFiles: string[];
  connections: number;
  pipelining: number;
  durationSeconds: number;
  /** The run stops at this many requests even if time remains. */
  maxRequests: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  bytesRead: number;
  /** This process's own CPU during the run, in seconds. */
  generatorCpuSeconds: number;
}

function parseConfig(text: string | undefined): LoadConfig {
  const value: unknown = JSON.parse(text ?? '');
  const files = isObject(value) && Array.isArray(value.bodyFiles) ? value.bodyFiles : [];
  if (!isObject(value) || typeof value.url !== 'string' || files.length === 0) {
    throw new Error('usage: autocannon-child.js <LoadConfig JSON>');
  }
  const number = (key: string): number => {
    const n = value[key];
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
      throw new Error(`${key} must be a positive number`);
    return n;
  };
  return {
    url: value.url,
    bodyFiles: files.map(String),
    connections: number('connections'),
    pipelining: number('pipelining'),
    durationSeconds: number('durationSeconds'),
    maxRequests: number('maxRequests'),
  };
}

const config = parseConfig(process.argv[2]);
const bodies = config.bodyFiles.map((file) => readFileSync(file, 'utf8'));
const before = process.cpuUsage();
const started = performance.now();
const result = await autocannon({
  url: `${config.url}/mutate`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  ...(bodies.length === 1 ? { body: bodies[0] } : { requests: bodies.map((body) => ({ body })) }),
  connections: config.connections,
  pipelining: config.pipelining,
  duration: config.durationSeconds,
  maxOverallRequests: config.maxRequests,
  timeout: 10,
});
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(before);
const requests = result.requests.total;
const out: LoadResult = {
  requests,
  seconds,
  rps: requests / seconds,
  latencyMs: {
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    max: result.latency.max,
    mean: result.latency.mean,
  },
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  bytesRead: result.throughput.total,
  generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
