import { DISTINCT_REVIEW } from './reviews.js';
import type { CostRow } from './handler-cost.js';
import type { MemoryResult } from './memory.js';
import type { OpenLoopResult } from './open-loop.js';
import type { SaturatedRun } from './saturate.js';
import { SERVER_LABELS, type ServerName } from './servers.js';
import { median, round } from './stats.js';

export interface Meta {
  date: string;
  command: string;
  commit: string;
  node: string;
  cpus: number;
  cpuModel: string;
  placement: string;
  load1Start: number;
  load1End?: number;
  quick: boolean;
  sidekickDist: string;
}

export interface SaturatedRecord extends SaturatedRun {
  round: number;
  server: ServerName;
  review: string;
}

export interface OpenLoopRecord extends OpenLoopResult {
  server: ServerName;
  review: string;
  serverCpuShare: number;
  serverPreemptionsPerSecond: number;
  load1: number;
}

export interface Results {
  meta: Meta;
  handler?: { rows: CostRow[]; growth: Growth[] };
  saturated?: {
    durationSeconds: number;
    connections: number;
    runs: SaturatedRecord[];
    summary: SaturatedSummary[];
  };
  openLoop?: OpenLoopRecord[] | { skipped: string };
  memory?: MemoryResult & { mix: string[] };
  targets?: Target[];
}

export interface Growth {
  series: 'env' | 'containers';
  from: number;
  to: number;
  /** p50 at `to` over p50 at `from` (total in-process cost). */
  factor: number;
  /** The same for the floor: how much of the growth the runtime itself shows at these sizes. */
  floorFactor: number;
}

export interface SaturatedSummary {
  review: string;
  /** Median over rounds. */
  rps: Record<ServerName, number>;
  cpuUsPerRequest: Record<ServerName, number>;
  generatorCpuShare: Record<ServerName, number>;
  ratioToExpress: number;
  ratioToRaw: number;
  /** The same ratios from server CPU per request: what each would reach with a whole CPU to itself. */
  cpuRatioToExpress: number;
  cpuRatioToRaw: number;
}

export interface Target {
  name: string;
  goal: string;
  value: string;
  met: boolean;
}

const SERVERS: readonly ServerName[] = ['raw', 'express', 'sidekick'];

export function growthFactors(rows: readonly CostRow[]): Growth[] {
  const out: Growth[] = [];
  for (const series of ['env', 'containers'] as const) {
    const list = rows.filter((r) => r.series === series).sort((a, b) => a.size - b.size);
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1];
      const b = list[i];
      if (a && b) {
        out.push({
          series,
          from: a.size,
          to: b.size,
          factor: b.totalMs.p50 / a.totalMs.p50,
          floorFactor: b.floorMs.p50 / a.floorMs.p50,
        });
      }
    }
  }
  return out;
}

export function summarizeSaturated(runs: readonly SaturatedRecord[]): SaturatedSummary[] {
  const reviews = [...new Set(runs.map((r) => r.review))];
  return reviews.map((review) => {
    const pick = (server: ServerName, f: (r: SaturatedRecord) => number): number =>
      median(runs.filter((r) => r.review === review && r.server === server).map(f));
    const by = (f: (r: SaturatedRecord) => number): Record<ServerName, number> => ({
      raw: pick('raw', f),
      express: pick('express', f),
      sidekick: pick('sidekick', f),
    });
    const rps = by((r) => r.rps);
    const cpu = by((r) => r.serverCpuUsPerRequest);
    return {
      review,
      rps,
      cpuUsPerRequest: cpu,
      generatorCpuShare: by((r) => r.generatorCpuShare),
      ratioToExpress: rps.sidekick / rps.express,
      ratioToRaw: rps.sidekick / rps.raw,
      cpuRatioToExpress: cpu.express / cpu.sidekick,
      cpuRatioToRaw: cpu.raw / cpu.sidekick,
    };
  });
}

const ms = (v: number): string => `${round(v)} ms`;
const fixed = (v: number, d = 2): string => v.toFixed(d);

function row(cells: readonly (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)];
}

function saturatedSection(s: NonNullable<Results['saturated']>): string[] {
  const rounds = new Set(s.runs.map((r) => r.round)).size;
  const perServer = s.summary.flatMap((x) =>
    SERVERS.map((n) => {
      const runs = s.runs.filter((r) => r.review === x.review && r.server === n);
      return [
        x.review,
        SERVER_LABELS[n],
        Math.round(x.rps[n]),
        `${Math.round(x.cpuUsPerRequest[n])} µs`,
        fixed(median(runs.map((r) => r.serverCpuShare))),
        Math.round(median(runs.map((r) => r.serverPreemptionsPerSecond))),
        fixed(x.generatorCpuShare[n]),
      ];
    }),
  );
  return [
    `### Saturated throughput (autocannon, ${s.connections} keep-alive TLS connections, ${s.durationSeconds} s per run, median of ${rounds} round(s))`,
    '',
    ...table(
      [
        'review',
        'server',
        'req/s',
        'server CPU per request',
        'server CPU share',
        'server preempted /s',
        'generator CPU share',
      ],
      perServer,
    ),
    '',
    ...table(
      ['review', 'sidekick / express', 'sidekick / raw', 'by CPU per request: / express', '/ raw'],
      s.summary.map((x) => [
        x.review,
        `**${fixed(x.ratioToExpress)}**`,
        `**${fixed(x.ratioToRaw)}**`,
        fixed(x.cpuRatioToExpress),
        fixed(x.cpuRatioToRaw),
      ]),
    ),
  ];
}

function openLoopSection(o: NonNullable<Results['openLoop']>): string[] {
  if (!Array.isArray(o)) return ['### Open loop', '', `Not measured: ${o.skipped}`];
  return [
    '### Open loop (vegeta: requests leave on schedule whatever the answers; 16 keep-alive TLS connections)',
    '',
    ...table(
      [
        'server',
        'review',
        'rate',
        'achieved',
        'p50',
        'p99',
        'p99.9',
        'max',
        'failed',
        'server CPU share',
        'server preempted /s',
        'generator CPU share',
      ],
      o.map((r) => [
        r.server,
        r.review,
        `${r.rate}/s`,
        `${Math.round(r.achievedRate)}/s`,
        ms(r.latencyMs.p50),
        ms(r.latencyMs.p99),
        ms(r.latencyMs.p999),
        ms(r.latencyMs.max),
        r.failed,
        fixed(r.serverCpuShare),
        Math.round(r.serverPreemptionsPerSecond),
        fixed(r.generatorCpuSeconds / (r.sent / r.rate)),
      ]),
    ),
  ];
}

const msOrDash = (v: number | null): string => (v === null || !Number.isFinite(v) ? '–' : ms(v));

function handlerSection(h: NonNullable<Results['handler']>): string[] {
  const growth = (r: CostRow): string => {
    const g = h.growth.find((x) => x.series === r.series && x.to === r.size);
    return g ? `${fixed(g.factor, 1)}× (floor ${fixed(g.floorFactor, 1)}×)` : '';
  };
  return [
    '### Handler in-process',
    '',
    'total = JSON.parse + handleReview + JSON.stringify of the answer; floor = JSON.parse + JSON.stringify of the review; "unpreempted" leaves out the iterations during which another process took the CPU.',
    '',
    ...table(
      [
        'Pod',
        'review bytes',
        'n',
        'floor p50',
        'handleReview p50',
        'total p50',
        'total p99',
        'total p99 unpreempted',
        'total / floor (p50)',
        'growth per 10×',
      ],
      h.rows.map((r) => [
        r.series === 'deployment'
          ? 'Deployment Pod, 3 sidecars'
          : r.series === 'distinct'
            ? 'the same, new parameter values each time'
            : `${r.size} ${r.series === 'env' ? 'env entries' : 'containers'}`,
        r.bytes,
        r.iterations,
        ms(r.floorMs.p50),
        ms(r.handlerMs.p50),
        ms(r.totalMs.p50),
        ms(r.totalMs.p99),
        `${msOrDash(r.totalUnpreemptedMs.p99)} (${r.preempted} preempted)`,
        `${fixed(r.totalMs.p50 / r.floorMs.p50, 1)}×`,
        growth(r),
      ]),
    ),
  ];
}

function memorySection(m: NonNullable<Results['memory']>): string[] {
  const mib = (value: number): string => `${fixed(value, 1)} MiB`;
  return [
    `### Memory (sidekick serve, ${m.requests} requests after warm-up, mix: ${m.mix.join(', ')})`,
    '',
    `Warm-up: ${m.warmupRequests} requests, in rounds until a round's median RSS was within 1 % of the previous one (medians: ${m.warmupRssMiB.map((r) => fixed(r, 1)).join(', ')} MiB). Before and after are medians of RSS sampled every 250 ms, over the last warm-up round and over the last ${fixed(m.windowSeconds, 1)} s of the run; the instants are single readings at the end of each.`,
    '',
    ...table(
      [
        'RSS cold',
        'before (median)',
        'after (median)',
        'drift',
        'before / after instant',
        'after 5 s idle',
        'peak',
        'req/s',
        'server CPU/req',
      ],
      [
        [
          mib(m.rssColdMiB),
          mib(m.rssBeforeMiB),
          mib(m.rssAfterMiB),
          `**${fixed(m.driftPercent, 1)} %**`,
          `${mib(m.rssBeforeInstantMiB)} / ${mib(m.rssAfterInstantMiB)}`,
          mib(m.rssIdleMiB),
          mib(m.rssPeakMiB),
          Math.round(m.rps),
          `${Math.round(m.serverCpuUsPerRequest)} µs`,
        ],
      ],
    ),
  ];
}

export function evaluateTargets(results: Results): Target[] {
  const targets: Target[] = [];
  for (const s of results.saturated?.summary ?? []) {
    if (s.review === DISTINCT_REVIEW) continue;
    targets.push({
      name: `throughput ${s.review}`,
      goal: '≥ 0.80× express floor',
      value: `${fixed(s.ratioToExpress)}× (by CPU/req ${fixed(s.cpuRatioToExpress)}×; raw floor ${fixed(s.ratioToRaw)}×)`,
      met: s.ratioToExpress >= 0.8,
    });
  }
  const rows = results.handler?.rows ?? [];
  const deployment = rows.find((r) => r.series === 'deployment');
  const big = rows.find((r) => r.series === 'env' && r.size === 1000);
  const distinct = rows.find((r) => r.series === 'distinct');
  const p99Targets: [CostRow | undefined, string, number][] = [
    [deployment, '9 KB', 1],
    [distinct, '9 KB, new parameter values each time', 1],
    [big, '150 KB', 3],
  ];
  for (const [r, size, limit] of p99Targets) {
    if (!r) continue;
    const own = r.totalUnpreemptedMs.p99;
    targets.push({
      name: `handler p99, ${size} (unpreempted / all iterations)`,
      goal: `≤ ${limit} ms`,
      value: `${msOrDash(own)} / ${ms(r.totalMs.p99)}`,
      met: Number.isFinite(own) && own <= limit,
    });
  }
  const growth = results.handler?.growth ?? [];
  if (growth.length > 0) {
    const worst = growth.reduce((a, b) => (b.factor > a.factor ? b : a));
    targets.push({
      name: 'growth per 10× size',
      goal: '≤ 12×',
      value: `${fixed(worst.factor, 1)}× (worst: ${worst.series} ${worst.from}→${worst.to}, where the floor grows ${fixed(worst.floorFactor, 1)}×)`,
      met: worst.factor <= 12,
    });
  }
  if (rows.length > 0) {
    const worst = rows.reduce((a, b) =>
      b.totalMs.p50 / b.floorMs.p50 > a.totalMs.p50 / a.floorMs.p50 ? b : a,
    );
    targets.push({
      name: 'handler / (parse + stringify)',
      goal: '≤ 3×',
      value: `${fixed(worst.totalMs.p50 / worst.floorMs.p50, 1)}× (worst: ${worst.series} ${worst.size})`,
      met: worst.totalMs.p50 / worst.floorMs.p50 <= 3,
    });
  }
  if (Array.isArray(results.openLoop)) {
    const open = results.openLoop.find((r) => r.server === 'sidekick' && r.rate === 1000);
    if (open) {
      targets.push({
        name: `open loop 1,000 req/s p99 (${open.review})`,
        goal: '≤ 5 ms',
        value: ms(open.latencyMs.p99),
        met: open.latencyMs.p99 <= 5 && open.failed === 0,
      });
    }
  }
  if (results.memory) {
    targets.push({
      name: `RSS drift after ${results.memory.requests} requests`,
      goal: '≤ 5 %',
      value: `${fixed(results.memory.driftPercent, 1)} %`,
      met: results.memory.driftPercent <= 5,
    });
  }
  return targets;
}

export function markdown(results: Results): string {
  const m = results.meta;
  const lines = [
    `Measured ${m.date} at ${m.commit} with \`${m.command}\`: Node ${m.node}, ${m.cpus} × ${m.cpuModel}; ${m.placement}; load average ${fixed(m.load1Start)} at the start${m.load1End !== undefined ? `, ${fixed(m.load1End)} at the end` : ''}.`,
    '',
  ];
  if (results.saturated) lines.push(...saturatedSection(results.saturated), '');
  if (results.openLoop) lines.push(...openLoopSection(results.openLoop), '');
  if (results.handler) lines.push(...handlerSection(results.handler), '');
  if (results.memory) lines.push(...memorySection(results.memory), '');
  if (results.targets) {
    lines.push(
      '### Targets',
      '',
      ...table(
        ['target', 'goal', 'measured', ''],
        results.targets.map((t) => [t.name, t.goal, t.value, t.met ? 'met' : '**missed**']),
      ),
      '',
    );
  }
  return lines.join('\n');
}

export function summaryLine(results: Results): string {
  const parts: string[] = [];
  for (const s of results.saturated?.summary ?? []) {
    parts.push(
      `${s.review}: sidekick/express ${fixed(s.ratioToExpress)} sidekick/raw ${fixed(s.ratioToRaw)}`,
    );
  }
  const deployment = results.handler?.rows.find((r) => r.series === 'deployment');
  if (deployment) parts.push(`handler 9 KB p99 ${ms(deployment.totalMs.p99)}`);
  if (Array.isArray(results.openLoop)) {
    const open = results.openLoop.find((r) => r.server === 'sidekick' && r.rate === 1000);
    if (open) parts.push(`open loop 1000/s p99 ${ms(open.latencyMs.p99)}`);
  }
  if (results.memory) parts.push(`RSS drift ${fixed(results.memory.driftPercent, 1)} %`);
  const targets = results.targets ?? [];
  parts.push(`targets met ${targets.filter((t) => t.met).length}/${targets.length}`);
  return `bench: ${parts.join('; ')}`;
}
