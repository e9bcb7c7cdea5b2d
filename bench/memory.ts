import { runAutocannon } from './saturate.js';
import { cpuSeconds, rssBytes } from './proc.js';
import { median } from './stats.js';
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
  /** Median RSS of each warm-up round, and the requests the warm-up took. */
  warmupRssMiB: number[];
  warmupRequests: number;
  /** Median RSS over the last warm-up round: JIT code, pools and heap at their working size. */
  rssBeforeMiB: number;
  /** Median RSS over the last `windowSeconds` of the measured run. */
  rssAfterMiB: number;
  windowSeconds: number;
  /** RSS at the instant the warm-up ended and the instant the run ended. */
  rssBeforeInstantMiB: number;
  rssAfterInstantMiB: number;
  /** After 5 s idle. */
  rssIdleMiB: number;
  rssPeakMiB: number;
  /** Between the two medians. */
  driftPercent: number;
  serverCpuUsPerRequest: number;
  generatorCpuSeconds: number;
}

const MiB = 1024 * 1024;
const SAMPLE_MS = 250;
/** A warm-up round whose median RSS is within this of the previous round's has settled. */
const SETTLED_PERCENT = 1;

/** RSS of a process every SAMPLE_MS, with the time of each sample. */
function rssSampler(pid: number): { samples: { at: number; mib: number }[]; stop: () => void } {
  const samples: { at: number; mib: number }[] = [];
  const take = (): void => {
    samples.push({ at: Date.now(), mib: rssBytes(pid) / MiB });
  };
  take();
  const timer = setInterval(take, SAMPLE_MS);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
    },
  };
}

const since = (samples: readonly { at: number; mib: number }[], at: number): number[] =>
  samples.filter((s) => s.at >= at).map((s) => s.mib);

/**
 * A fresh sidekick process, warmed up, then `requests` answers in one pipelined run (the client
 * works less per request so the run is shorter; the server does the same work), its RSS sampled
 * every 250 ms throughout.
 *
 * RSS at one instant says where the old generation is in its collection cycle as much as what
 * the process holds (it rose and fell by 7 MiB within seconds here), so before and after are
 * medians over windows: the last warm-up round, and the same length of time at the end of the
 * run. V8 also grows its young generation and old space to the allocation rate over the first
 * tens of thousands of requests, faster or slower with the machine; the warm-up goes on, round by
 * round, until a round's median is within 1 % of the previous one. Every round's median is in the
 * results, and the instants too.
 */
export async function memoryDrift(server: RunningServer, config: MemoryConfig): Promise<MemoryResult> {
  const rssColdMiB = rssBytes(server.pid) / MiB;
  const base = {
    url: server.url,
    bodyFiles: config.bodyFiles,
    connections: config.connections,
    pipelining: config.pipelining,
  };
  const sampler = rssSampler(server.pid);
  const warmupRss: number[] = [];
  let lastRoundStart = Date.now();
  let lastRoundSeconds = 0;
  let run;
  let cpuBefore = 0;
  let rssBeforeInstant = 0;
  let runStart = 0;
  try {
    for (let round = 1; round <= config.maxWarmupRounds; round++) {
      lastRoundStart = Date.now();
      await runAutocannon(
        { ...base, durationSeconds: config.maxSeconds, maxRequests: config.warmupRequests },
        config.cpu,
      );
      lastRoundSeconds = (Date.now() - lastRoundStart) / 1000;
      warmupRss.push(median(since(sampler.samples, lastRoundStart)));
      const [previous, current] = warmupRss.slice(-2);
      const settled =
        previous !== undefined &&
        current !== undefined &&
        (Math.abs(current - previous) / previous) * 100 < SETTLED_PERCENT;
      if (settled) break;
    }
    rssBeforeInstant = rssBytes(server.pid) / MiB;
    cpuBefore = cpuSeconds(server.pid);
    runStart = Date.now();
    // autocannon stops each connection with its pipelined requests unanswered: ask for that many more.
    const extra = config.connections * config.pipelining;
    run = await runAutocannon(
      { ...base, durationSeconds: config.maxSeconds, maxRequests: config.requests + extra },
      config.cpu,
    );
  } finally {
    sampler.stop();
  }
  const runEnd = Date.now();
  const serverCpu = cpuSeconds(server.pid) - cpuBefore;
  const rssAfterInstant = rssBytes(server.pid) / MiB;
  if (run.errors > 0 || run.non2xx > 0 || run.timeouts > 0) {
    throw new Error(`memory run: ${run.errors} errors, ${run.non2xx} non-2xx, ${run.timeouts} timeouts`);
  }
  const before = warmupRss[warmupRss.length - 1] ?? rssBeforeInstant;
  const window = Math.max(lastRoundSeconds, 1);
  const after = median(since(sampler.samples, runEnd - window * 1000));
  const peak = Math.max(...since(sampler.samples, runStart), rssAfterInstant);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const rssIdle = rssBytes(server.pid);
  return {
    requests: run.requests,
    seconds: run.seconds,
    rps: run.rps,
    rssColdMiB: rssColdMiB,
    warmupRssMiB: warmupRss,
    warmupRequests: warmupRss.length * config.warmupRequests,
    rssBeforeMiB: before,
    rssAfterMiB: after,
    windowSeconds: window,
    rssBeforeInstantMiB: rssBeforeInstant,
    rssAfterInstantMiB: rssAfterInstant,
    rssIdleMiB: rssIdle / MiB,
    rssPeakMiB: peak,
    driftPercent: ((after - before) / before) * 100,
    serverCpuUsPerRequest: (serverCpu / Math.max(1, run.requests)) * 1e6,
    generatorCpuSeconds: run.generatorCpuSeconds,
  };
}
