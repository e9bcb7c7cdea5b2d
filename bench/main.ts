// npm run bench: sidekick next to two floors under the same load, its handler by Pod size, and its
// memory over a million requests. Results in bench/results.json, a markdown table, a summary line.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';
import type { CostRow } from './handler-cost.js';
import { memoryDrift } from './memory.js';
import { openLoop, vegetaBinary } from './open-loop.js';
import {
  choosePlacement,
  cpuSeconds,
  finish,
  load1,
  preemptions,
  ROOT,
  spawnOn,
  type Placement,
} from './proc.js';
import {
  evaluateTargets,
  growthFactors,
  markdown,
  summarizeSaturated,
  summaryLine,
  type OpenLoopRecord,
  type Results,
  type SaturatedRecord,
} from './report.js';
import {
  deploymentReview,
  loadReviews,
  refusedReview,
  saturatedReviews,
  skippedReview,
  type NamedReview,
} from './reviews.js';
import { saturate } from './saturate.js';
import { makeTls, SERVER_NAMES, startServer, type ServerName, type Tls } from './servers.js';
import { verifyAnswer } from './verify.js';

const PHASES = ['handler', 'saturated', 'open', 'memory'] as const;
type Phase = (typeof PHASES)[number];

interface Settings {
  phases: Phase[];
  rounds: number;
  saturatedSeconds: number;
  warmupSeconds: number;
  openSeconds: number;
  memoryRequests: number;
  handlerBudgetMs: number;
  sidekickDist: string;
  unpinned: boolean;
  /** Keep V8's parallel GC threads in pinned server processes (by default they are turned off). */
  parallelGc: boolean;
  /** Node options for sidekick's processes: --cpu-prof into a directory when asked. */
  nodeArgs: string[];
  /** sidekick's --log-level: warn drops the one line per admission that info (deploy/base) writes. */
  logLevel: string;
  updateReadme: boolean;
  quick: boolean;
}

const CONNECTIONS = 16;
/** Per saturated run: the load stops at whichever of time or count comes first. */
const MAX_REQUESTS_PER_RUN = 2_000_000;
/** Open loop: 1,000/s for the Deployment Pod (the target); 100/s of the 150 KB Pod (rarer, 17× the bytes). */
const OPEN_RATES = [1000, 100];

function settings(argv: readonly string[]): Settings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      phases: { type: 'string' },
      rounds: { type: 'string' },
      'memory-requests': { type: 'string' },
      'sidekick-dist': { type: 'string' },
      profile: { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
      unpinned: { type: 'boolean', default: false },
      'parallel-gc': { type: 'boolean', default: false },
      'update-readme': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const phases = (values.phases ?? PHASES.join(',')).split(',').map((p) => p.trim());
  for (const p of phases) {
    if (!(PHASES as readonly string[]).includes(p))
      throw new Error(`unknown phase ${p}; phases: ${PHASES.join(', ')}`);
  }
  const count = (value: string | undefined, fallback: number): number => {
    const n = Number(value ?? fallback);
    if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer: ${value ?? ''}`);
    return n;
  };
  return {
    phases: phases as Phase[],
    rounds: count(values.rounds, quick ? 1 : 3),
    saturatedSeconds: quick ? 3 : 10,
    warmupSeconds: quick ? 1 : 3,
    openSeconds: quick ? 5 : 30,
    memoryRequests: count(values['memory-requests'], quick ? 20_000 : 1_000_000),
    handlerBudgetMs: quick ? 500 : 2500,
    sidekickDist: resolve(values['sidekick-dist'] ?? join(ROOT, 'dist')),
    nodeArgs: values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`],
    logLevel: logLevel(values['log-level']),
    updateReadme: values['update-readme'],
    unpinned: values.unpinned,
    parallelGc: values['parallel-gc'],
    quick,
  };
}

function logLevel(value: string): string {
  if (!['debug', 'info', 'warn', 'error'].includes(value))
    throw new Error(`--log-level ${value}: one of debug, info, warn, error`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function handlerPhase(s: Settings): Promise<NonNullable<Results['handler']>> {
  log('handler cost by Pod size, in-process');
  const config = {
    dist: s.sidekickDist,
    sizes: [1, 10, 100, 1000],
    budgetMs: s.handlerBudgetMs,
    maxIterations: 20_000,
  };
  // Not pinned: nothing else of the benchmark runs now, and the scheduler may pick the quieter CPU.
  const child = spawnOn(undefined, process.execPath, [
    ...s.nodeArgs,
    'dist/bench/handler-cost.js',
    JSON.stringify(config),
  ]);
  const done = await finish(child, 600_000);
  if (done.code !== 0) throw new Error(`handler-cost failed: ${done.stderr}`);
  const parsed: unknown = JSON.parse(done.stdout);
  if (!Array.isArray(parsed)) throw new Error(`handler-cost gave no rows: ${done.stdout}`);
  // Written by handler-cost.js of this build, one line of CostRow[].
  const rows = parsed as CostRow[];
  return { rows, growth: growthFactors(rows) };
}

function bodyFile(tls: Tls, name: string, text: string): string {
  const path = join(tls.dir, `${name}.json`);
  writeFileSync(path, text);
  return path;
}

/**
 * A server pinned to one CPU runs with V8's GC on its main thread only: its parallel scavenge and
 * concurrent marking threads otherwise share that CPU with the main thread, which then waits for
 * helpers that cannot run (measured: 110 preemptions/s and a p99.9 of 15–21 ms at 1,000/s, against
 * 15/s and 5–9 ms). The same for every server, floors included; `--parallel-gc` keeps the helpers.
 */
function serverGcArgs(s: Settings, placement: Placement): string[] {
  return placement.server !== undefined && !s.parallelGc ? ['--single-threaded-gc'] : [];
}

async function withServer<T>(
  name: ServerName,
  tls: Tls,
  placement: Placement,
  s: Settings,
  body: (server: Awaited<ReturnType<typeof startServer>>) => Promise<T>,
): Promise<T> {
  const server = await startServer(
    name,
    tls,
    placement.server,
    name === 'sidekick' ? s.sidekickDist : undefined,
    [...serverGcArgs(s, placement), ...(name === 'sidekick' ? s.nodeArgs : [])],
    s.logLevel,
  );
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

async function saturatedPhase(
  s: Settings,
  tls: Tls,
  placement: Placement,
  reviews: readonly NamedReview[],
): Promise<NonNullable<Results['saturated']>> {
  const runs: SaturatedRecord[] = [];
  const files = reviews.map((r, i) =>
    (r.variants ?? [r.text]).map((text, j) => bodyFile(tls, `review-${i}-${j}`, text)),
  );
  for (let round = 1; round <= s.rounds; round++) {
    // The machine's speed drifts by minutes: every other round runs the servers in the reverse
    // order, so that a steady drift does not always favour the server that runs first.
    const order = round % 2 === 1 ? SERVER_NAMES : [...SERVER_NAMES].reverse();
    for (const name of order) {
      await withServer(name, tls, placement, s, async (server) => {
        for (const [i, review] of reviews.entries()) {
          await verifyAnswer(name, server.url, tls.ca, review.text);
          const base = {
            url: server.url,
            bodyFiles: files[i] ?? [],
            connections: CONNECTIONS,
            pipelining: 1,
          };
          await saturate(
            { ...base, durationSeconds: s.warmupSeconds, maxRequests: MAX_REQUESTS_PER_RUN },
            server.pid,
            placement.client,
          );
          const run = await saturate(
            { ...base, durationSeconds: s.saturatedSeconds, maxRequests: MAX_REQUESTS_PER_RUN },
            server.pid,
            placement.client,
          );
          runs.push({ round, server: name, review: review.name, ...run });
          log(
            `saturated round ${round} ${name} ${review.name}: ${Math.round(run.rps)} req/s, ${Math.round(run.serverCpuUsPerRequest)} µs CPU/req, server ${run.serverCpuShare.toFixed(2)} CPU (preempted ${Math.round(run.serverPreemptionsPerSecond)}/s), generator ${run.generatorCpuShare.toFixed(2)} CPU, load ${load1().toFixed(1)}`,
          );
        }
      });
    }
  }
  return {
    durationSeconds: s.saturatedSeconds,
    connections: CONNECTIONS,
    runs,
    summary: summarizeSaturated(runs),
  };
}

async function openLoopPhase(
  s: Settings,
  tls: Tls,
  placement: Placement,
  reviews: readonly NamedReview[],
): Promise<NonNullable<Results['openLoop']>> {
  const vegeta = vegetaBinary();
  if (!('path' in vegeta)) {
    log(`open loop skipped: ${vegeta.problem}`);
    return { skipped: vegeta.problem };
  }
  const records: OpenLoopRecord[] = [];
  const files = reviews.map((r, i) => bodyFile(tls, `review-${i}`, r.text));
  for (const name of SERVER_NAMES) {
    await withServer(name, tls, placement, s, async (server) => {
      for (const [i, review] of reviews.entries()) {
        const rate = OPEN_RATES[i] ?? 100;
        const base = {
          vegeta: vegeta.path,
          url: server.url,
          caFile: tls.caFile,
          bodyFile: files[i] ?? '',
          workDir: tls.dir,
          rate,
          connections: CONNECTIONS,
          cpu: placement.client,
        };
        await openLoop({ ...base, durationSeconds: Math.max(2, Math.round(s.openSeconds / 6)) });
        const before = cpuSeconds(server.pid);
        const preemptedBefore = preemptions(server.pid);
        const result = await openLoop({ ...base, durationSeconds: s.openSeconds });
        const serverCpuShare = (cpuSeconds(server.pid) - before) / s.openSeconds;
        const serverPreemptionsPerSecond = (preemptions(server.pid) - preemptedBefore) / s.openSeconds;
        records.push({
          server: name,
          review: review.name,
          ...result,
          serverCpuShare,
          serverPreemptionsPerSecond,
          load1: load1(),
        });
        log(
          `open loop ${name} ${review.name} at ${rate}/s: p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms, p99.9 ${result.latencyMs.p999.toFixed(2)} ms, ${result.failed} failed, load ${load1().toFixed(1)}`,
        );
      }
    });
  }
  return records;
}

async function memoryPhase(
  s: Settings,
  tls: Tls,
  placement: Placement,
): Promise<NonNullable<Results['memory']>> {
  const mix = [
    { name: 'Deployment Pod injected', text: JSON.stringify(deploymentReview()) },
    { name: 'Pod skipped', text: JSON.stringify(skippedReview()) },
    { name: 'Pod refused', text: JSON.stringify(refusedReview()) },
  ];
  const files = mix.map((m, i) => bodyFile(tls, `memory-${i}`, m.text));
  log(`memory: ${s.memoryRequests} requests to a fresh sidekick serve`);
  return withServer('sidekick', tls, placement, s, async (server) => {
    const result = await memoryDrift(server, {
      bodyFiles: files,
      warmupRequests: Math.min(50_000, Math.max(5_000, s.memoryRequests / 20)),
      maxWarmupRounds: 8,
      requests: s.memoryRequests,
      connections: CONNECTIONS,
      pipelining: 4,
      maxSeconds: 1200,
      cpu: placement.client,
    });
    log(
      `memory: RSS ${result.rssBeforeMiB.toFixed(1)} → ${result.rssAfterMiB.toFixed(1)} MiB (${result.driftPercent.toFixed(1)} %)`,
    );
    return { ...result, mix: mix.map((m) => m.name) };
  });
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'templates'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? commit : `${commit} (src/ or templates/ modified)`;
  } catch {
    return 'unknown';
  }
}

const README_START = '<!-- results:start -->';
const README_END = '<!-- results:end -->';

/** Replaces the results section of bench/README.md, formatted as `npm run lint` wants it. */
async function updateReadme(table: string): Promise<void> {
  const path = join(ROOT, 'bench', 'README.md');
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`${path} has no ${README_START} … ${README_END} section`);
  const updated = `${text.slice(0, start + README_START.length)}\n\n${table}\n${text.slice(end)}`;
  const options = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(updated, { ...options, filepath: path }));
}

async function main(): Promise<void> {
  const s = settings(process.argv.slice(2));
  const placement = choosePlacement(s.unpinned);
  const results: Results = {
    meta: {
      date: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      commit: gitCommit(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      placement: `${placement.note}${serverGcArgs(s, placement).length > 0 ? '; server processes run with --single-threaded-gc' : ''}; sidekick serve --log-level ${s.logLevel}`,
      load1Start: load1(),
      quick: s.quick,
      sidekickDist: s.sidekickDist,
    },
  };
  log(`${results.meta.placement}; load average ${load1().toFixed(1)}`);
  const reviews = loadReviews();
  const tls = await makeTls();
  try {
    if (s.phases.includes('handler')) results.handler = await handlerPhase(s);
    if (s.phases.includes('saturated'))
      results.saturated = await saturatedPhase(s, tls, placement, saturatedReviews());
    if (s.phases.includes('open')) results.openLoop = await openLoopPhase(s, tls, placement, reviews);
    if (s.phases.includes('memory')) results.memory = await memoryPhase(s, tls, placement);
  } finally {
    await tls.remove();
  }
  results.meta.load1End = load1();
  results.targets = evaluateTargets(results);
  const table = markdown(results);
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (s.updateReadme) await updateReadme(table);
  process.stdout.write(`${table}\n${summaryLine(results)}\n`);
}

await main();
