import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { finish, reapedChildrenCpuSeconds, ROOT, spawnOn } from './proc.js';
import { isObject } from '../src/json.js';
import { summarize, type Summary } from './stats.js';

/**
 * Open loop: requests leave at a fixed rate whether or not earlier ones were answered, so a slow
 * answer delays no later request and cannot hide in the figures (autocannon's rate mode sends each
 * second's quota back to back on every connection and waits for each answer: a closed loop).
 * vegeta does this; it is pinned in bench/tools/go.mod and built once into the user's cache.
 */
const VEGETA_VERSION = 'v12.12.0';

export function vegetaBinary(): { path: string } | { problem: string } {
  const dir = join(
    process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
    'sidekick',
    `vegeta-${VEGETA_VERSION}`,
  );
  const path = join(dir, 'vegeta');
  if (existsSync(path)) return { path };
  mkdirSync(dir, { recursive: true });
  const built = spawnSync('go', ['install', 'github.com/tsenart/vegeta/v12'], {
    cwd: join(ROOT, 'bench', 'tools'),
    env: { ...process.env, GOBIN: dir, GOFLAGS: '-mod=readonly -trimpath' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (built.error) return { problem: `cannot build vegeta (needs Go): ${built.error.message}` };
  if (built.status !== 0 || !existsSync(path))
    return { problem: `go install vegeta failed: ${built.stderr.trim()}` };
  return { path };
}

export interface OpenLoopConfig {
  vegeta: string;
  url: string;
  caFile: string;
  bodyFile: string;
  workDir: string;
  rate: number;
  durationSeconds: number;
  connections: number;
  cpu: string | undefined;
}

export interface OpenLoopResult {
  rate: number;
  sent: number;
  ok: number;
  failed: number;
  /** Of the answered requests; vegeta starts more workers rather than delay a due request. */
  latencyMs: Summary;
  /** Requests actually started per second over the run. */
  achievedRate: number;
  generatorCpuSeconds: number;
  firstError?: string;
}

function targetsFile(config: OpenLoopConfig): string {
  const path = join(config.workDir, 'targets.json');
  const target = {
    method: 'POST',
    url: `${config.url}/mutate`,
    header: { 'Content-Type': ['application/json'] },
    body: readFileSync(config.bodyFile).toString('base64'),
  };
  writeFileSync(path, `${JSON.stringify(target)}\n`);
  return path;
}

export interface Hits {
  starts: number[];
  latencies: number[];
  codes: number[];
  errors: string[];
}

/** `vegeta encode -to=json`: one result per line, latency in ns, timestamp in RFC 3339. */
export function parseResults(lines: string): Hits {
  const hits: Hits = { starts: [], latencies: [], codes: [], errors: [] };
  for (const line of lines.split('\n')) {
    if (line === '') continue;
    const hit: unknown = JSON.parse(line);
    if (!isObject(hit) || typeof hit.timestamp !== 'string' || typeof hit.latency !== 'number') {
      throw new Error(`not a vegeta result: ${line.slice(0, 200)}`);
    }
    hits.starts.push(Date.parse(hit.timestamp));
    hits.latencies.push(hit.latency / 1e6);
    hits.codes.push(typeof hit.code === 'number' ? hit.code : 0);
    if (typeof hit.error === 'string' && hit.error !== '') hits.errors.push(hit.error);
  }
  return hits;
}

export async function openLoop(config: OpenLoopConfig): Promise<OpenLoopResult> {
  const output = join(config.workDir, 'results.bin');
  const cpuBefore = reapedChildrenCpuSeconds();
  const attack = spawnOn(config.cpu, config.vegeta, [
    'attack',
    '-format=json',
    `-targets=${targetsFile(config)}`,
    `-rate=${config.rate}/1s`,
    `-duration=${config.durationSeconds}s`,
    `-root-certs=${config.caFile}`,
    `-connections=${config.connections}`,
    `-max-connections=${config.connections}`,
    `-workers=${config.connections}`,
    '-http2=false',
    '-max-body=0',
    '-timeout=10s',
    `-output=${output}`,
  ]);
  const attacked = await finish(attack, (config.durationSeconds + 30) * 1000);
  const generatorCpuSeconds = reapedChildrenCpuSeconds() - cpuBefore;
  if (attacked.code !== 0) throw new Error(`vegeta attack failed: ${attacked.stderr.trim()}`);
  const encode = spawnSync(config.vegeta, ['encode', '-to=json', output], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (encode.status !== 0) throw new Error(`vegeta encode failed: ${encode.stderr.trim()}`);
  const { starts, latencies, codes, errors } = parseResults(encode.stdout);
  const answered = latencies.filter((_, i) => codes[i] === 200);
  const first = starts.reduce((a, b) => Math.min(a, b), Infinity);
  const last = starts.reduce((a, b) => Math.max(a, b), -Infinity);
  return {
    rate: config.rate,
    sent: codes.length,
    ok: answered.length,
    failed: codes.length - answered.length,
    latencyMs: summarize(answered),
    achievedRate: last > first ? (codes.length - 1) / ((last - first) / 1000) : 0,
    generatorCpuSeconds,
    ...(errors[0] !== undefined ? { firstError: errors[0] } : {}),
  };
}
