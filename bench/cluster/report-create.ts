import { round } from '../stats.js';
import type { CreateRow, Variant } from './create.js';

const ms = (value: number): string => (Number.isFinite(value) ? `${String(round(value))} ms` : '–');
const rateName = (rate: number): string => (rate === 0 ? 'saturated' : `${String(rate)}/s`);

export interface CreateVerdict {
  rate: number;
  variant: Variant;
  p50Ratio: number;
  p99Ratio: number;
}

const VARIANT_NAMES: Record<Variant, string> = {
  injected: 'injected (deploy/base webhook)',
  once: 'injected, reinvocation Never',
  floor: 'raw floor webhook (allows, no patch)',
  plain: 'plain (webhook not called)',
};

export function createVerdicts(rows: readonly CreateRow[]): CreateVerdict[] {
  const verdicts: CreateVerdict[] = [];
  for (const injected of rows.filter((r) => r.variant !== 'plain')) {
    const plain = rows.find((r) => r.variant === 'plain' && r.rate === injected.rate);
    if (!plain) continue;
    verdicts.push({
      rate: injected.rate,
      variant: injected.variant,
      p50Ratio: round(injected.latencyMs.p50 / plain.latencyMs.p50, 2),
      p99Ratio: round(injected.latencyMs.p99 / plain.latencyMs.p99, 2),
    });
  }
  return verdicts;
}

function cpu(row: CreateRow, name: string): string {
  const value = row.cpuMsPerPod[name];
  return value === undefined ? '–' : `${String(value)} ms`;
}

/** The tables of the create phase, in markdown. */
export function createTables(rows: readonly CreateRow[]): string {
  const lines = [
    '| rate | namespace | Pods created | failed | Pods/s | p50 | p99 | p99.9 | max | apiserver CPU/Pod | etcd CPU/Pod | webhook CPU/Pod | webhook calls | load avg |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${rateName(r.rate)} | ${VARIANT_NAMES[r.variant]} | ${String(r.created)} | ${String(r.failed)} | ${String(r.perSecond)} | ${ms(r.latencyMs.p50)} | ${ms(r.latencyMs.p99)} | ${ms(r.latencyMs.p999)} | ${ms(r.latencyMs.max)} | ${cpu(r, 'kube-apiserver')} | ${cpu(r, 'etcd')} | ${r.variant === 'plain' ? '–' : cpu(r, r.variant === 'floor' ? 'webhook floor' : 'sidekick')} | ${String(r.webhookCalls)} | ${String(r.load[0])} → ${String(r.load[1])} |`,
    );
  }
  lines.push(
    '',
    '| rate | webhook | / plain p50 | goal | / plain p99 | goal |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const v of createVerdicts(rows)) {
    lines.push(
      `| ${rateName(v.rate)} | ${VARIANT_NAMES[v.variant]} | **${String(v.p50Ratio)}** | ≤ 1.2 ${v.p50Ratio <= 1.2 ? 'met' : 'not met'} | **${String(v.p99Ratio)}** | ≤ 1.5 ${v.p99Ratio <= 1.5 ? 'met' : 'not met'} |`,
    );
  }
  const injected = rows.filter((r) => r.variant !== 'plain');
  const les = [...new Set(injected.flatMap((r) => Object.keys(r.webhookBuckets)))].sort(
    (a, b) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)),
  );
  lines.push(
    '',
    '`apiserver_admission_webhook_admission_duration_seconds` of the webhook of each injected row (`type="admit"`, `operation="CREATE"`; cumulative counts, as the apiserver exposes them):',
    '',
    `| rate | webhook | Pods | calls | calls/Pod | mean | ${les.map((le) => `≤ ${le} s`).join(' | ')} |`,
    `| --- | --- | --- | --- | --- | --- | ${les.map(() => '---').join(' | ')} |`,
  );
  for (const r of injected) {
    lines.push(
      `| ${rateName(r.rate)} | ${VARIANT_NAMES[r.variant]} | ${String(r.created)} | ${String(r.webhookCalls)} | ${String(round(r.webhookCalls / Math.max(1, r.created), 2))} | ${ms(r.webhookMeanMs)} | ${les.map((le) => String(r.webhookBuckets[le] ?? 0)).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
