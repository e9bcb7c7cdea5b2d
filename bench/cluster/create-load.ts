import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../../src/json.js';
import { parseResults } from '../open-loop.js';
import { finish, reapedChildrenCpuSeconds, spawnOn } from '../proc.js';

/** Where and as whom vegeta creates Pods: the apiserver with the admin's client certificate. */
export interface ApiTarget {
  server: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface CreateLoad {
  vegeta: string;
  api: ApiTarget;
  namespace: string;
  pod: JsonObject;
  /** Pods a second, open loop; 0: saturated, `workers` creates in flight at all times. */
  rate: number;
  seconds: number;
  workers: number;
  workDir: string;
}

export interface CreateResult {
  sent: number;
  created: number;
  failed: number;
  /** Client-side latency of each POST that created a Pod (201), in ms. */
  latenciesMs: number[];
  /** Creates started a second (open loop) or completed a second (saturated). */
  perSecond: number;
  generatorCpuSeconds: number;
  firstError?: string;
}

/**
 * vegeta POSTs the Pod to the namespace's pods at a fixed rate whatever the answers (open loop), or
 * with a fixed number of workers each sending its next create when the last is answered.
 * HTTP/1.1 keep-alive connections, as many as workers.
 */
export async function createPods(load: CreateLoad): Promise<CreateResult> {
  const targets = join(load.workDir, `targets-${load.namespace}.json`);
  const target = {
    method: 'POST',
    url: `${load.api.server}/api/v1/namespaces/${load.namespace}/pods`,
    header: { 'Content-Type': ['application/json'], Accept: ['application/json'] },
    body: Buffer.from(JSON.stringify(load.pod)).toString('base64'),
  };
  writeFileSync(targets, `${JSON.stringify(target)}\n`);
  const output = join(load.workDir, `results-${load.namespace}.bin`);
  const pace =
    load.rate > 0
      ? [`-rate=${String(load.rate)}/1s`, `-workers=${String(load.workers)}`]
      : ['-rate=0', `-workers=${String(load.workers)}`, `-max-workers=${String(load.workers)}`];
  const cpuBefore = reapedChildrenCpuSeconds();
  const attack = spawnOn(undefined, load.vegeta, [
    'attack',
    '-format=json',
    `-targets=${targets}`,
    ...pace,
    `-duration=${String(load.seconds)}s`,
    `-root-certs=${load.api.caFile}`,
    `-cert=${load.api.certFile}`,
    `-key=${load.api.keyFile}`,
    `-connections=${String(load.workers)}`,
    `-max-connections=${String(load.workers)}`,
    '-http2=false',
    '-max-body=0',
    '-timeout=30s',
    `-output=${output}`,
  ]);
  const attacked = await finish(attack, (load.seconds + 60) * 1000);
  const generatorCpuSeconds = reapedChildrenCpuSeconds() - cpuBefore;
  if (attacked.code !== 0) throw new Error(`vegeta attack failed: ${attacked.stderr.trim()}`);
  const encode = spawnSync(load.vegeta, ['encode', '-to=json', output], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (encode.status !== 0) throw new Error(`vegeta encode failed: ${encode.stderr.trim()}`);
  const { starts, latencies, codes, errors } = parseResults(encode.stdout);
  const created = latencies.filter((_, i) => codes[i] === 201);
  const first = starts.reduce((a, b) => Math.min(a, b), Infinity);
  const lastStart = starts.reduce((a, b) => Math.max(a, b), -Infinity);
  const lastEnd = starts.reduce((a, start, i) => Math.max(a, start + (latencies[i] ?? 0)), -Infinity);
  const span = (load.rate > 0 ? lastStart : lastEnd) - first;
  return {
    sent: codes.length,
    created: created.length,
    failed: codes.length - created.length,
    latenciesMs: created,
    perSecond: span > 0 ? (load.rate > 0 ? codes.length - 1 : created.length) / (span / 1000) : 0,
    generatorCpuSeconds,
    ...(errors[0] !== undefined ? { firstError: errors[0] } : {}),
  };
}
