import { runAutocannon } from './saturate.js';
import { cpuSeconds, rssBytes } from './proc.js';
import type { RunningServer } from './servers.js';

export interface MemoryConfig {
  bodyFiles: string[];
  /** Warm-up rounds of this many requests go on until RSS settles (see `memoryDrift`). */
  warmupRequests: number;
  maxWarmupRounds: number;
  requests: number;
  connections: number;
  pipelining: number;
  /** Bound on the measured run; it normally ends at `requests`. */
  maxSeconds: number;
  cpu: string | undefined;
}

export interface MemoryResult {
  requests: number;
  seconds: number;
  rps: number;
  rssColdMiB: number;
  /** RSS after each warm-up round, and the requests the warm-up took. */
  warmupRssMiB: number[];
  warmupRequests: number;
  /** After the warm-up: JIT code, pools and heap at their working size. */
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** After 5 s idle, when V8 has had time for a full collection of a quiet heap. */
  rssIdleMiB: number;
  rssPeakMiB: number;
  driftPercent: number;
  serverCpuUsPerRequest: number;
  generatorCpuSeconds: number;
}

const MiB = 1024 * 1024;
const SAMPLE_MS = 500;
/** A warm-up round that grows RSS by less than this has reached the working size. */
const SETTLED_PERCENT = 1;

/**
 * A fresh sidekick process, warmed up, then `requests` answers in one pipelined run (the client
 * works less per request so the run is shorter; the server does the same work), its RSS sampled
 * throughout. V8 grows its young generation and old space to the allocation rate over the first
 * tens of thousands of requests, faster or slower with the machine's speed; a fixed warm-up
 * measured part of that growth as drift. The warm-up therefore goes on, round by round, until a
 * round adds less than 1 % to RSS; every round's RSS is in the results.
 */
export async function memoryDrift(server: RunningServer, config: MemoryConfig): Promise<MemoryResult> {
  const rssColdMiB = rssBytes(server.pid) / MiB;
  const base = {
    url: server.url,
    bodyFiles: config.bodyFiles,
    connections: config.connections,
    pipelining: config.pipelining,
  };
  const warmupRss: number[] = [];
  let last = rssBytes(server.pid);
  for (let round = 1; round <= config.maxWarmupRounds; round++) {
    await runAutocannon(
      { ...base, durationSeconds: config.maxSeconds, maxRequests: config.warmupRequests },
      config.cpu,
    );
    const rss = rssBytes(server.pid);
    warmupRss.push(rss / MiB);
    const settled = round > 1 && ((rss - last) / last) * 100 < SETTLED_PERCENT;
    last = rss;
    if (settled) break;
  }
  const rssBefore = rssBytes(server.pid);
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes(server.pid));
  }, SAMPLE_MS);
  const cpuBefore = cpuSeconds(server.pid);
  let run;
  try {
    // autocannon stops each connection with its pipelined requests unanswered: ask for that many more.
    const extra = config.connections * config.pipelining;
    run = await runAutocannon(
      { ...base, durationSeconds: config.maxSeconds, maxRequests: config.requests + extra },
      config.cpu,
    );
  } finally {
    clearInterval(sampler);
  }
  const serverCpu = cpuSeconds(server.pid) - cpuBefore;
  const rssAfter = rssBytes(server.pid);
  peak = Math.max(peak, rssAfter);
  if (run.errors > 0 || run.non2xx > 0 || run.timeouts > 0) {
    throw new Error(`memory run: ${run.errors} errors, ${run.non2xx} non-2xx, ${run.timeouts} timeouts`);
  }
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const rssIdle = rssBytes(server.pid);
  return {
    requests: run.requests,
    seconds: run.seconds,
    rps: run.rps,
    rssColdMiB: rssColdMiB,
    warmupRssMiB: warmupRss,
    warmupRequests: warmupRss.length * config.warmupRequests,
    rssBeforeMiB: rssBefore / MiB,
    rssAfterMiB: rssAfter / MiB,
    rssIdleMiB: rssIdle / MiB,
    rssPeakMiB: peak / MiB,
    driftPercent: ((rssAfter - rssBefore) / rssBefore) * 100,
    serverCpuUsPerRequest: (serverCpu / Math.max(1, run.requests)) * 1e6,
    generatorCpuSeconds: run.generatorCpuSeconds,
  };
}
