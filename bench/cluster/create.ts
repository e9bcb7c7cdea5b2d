import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { E2eEnvironment } from '../../test/e2e/harness/environment.js';
import { INJECTION_LABEL, WEBHOOK } from '../../test/e2e/harness/environment.js';
import { cpuSeconds, load1 } from '../proc.js';
import { round, summarize, type Summary } from '../stats.js';
import { apiserverMetrics, apiTarget, deleteAllPods } from './cluster-api.js';
import { createPods, type CreateResult } from './create-load.js';
import { buckets, sumOf, type Sample } from '../../test/support/metrics-text.js';
import { benchPod } from './pod.js';
import { connect } from 'node:net';
import { ManagedProcess } from '../../test/e2e/harness/processes.js';
import { freePort } from '../../test/e2e/harness/ports.js';
import { waitFor } from '../../test/e2e/harness/wait.js';
import { ROOT } from '../proc.js';
import { isObject, type JsonObject } from '../../src/json.js';
import { loadKustomization, withLocalClientConfig } from '../../test/e2e/harness/manifests.js';
import { repoPath } from '../../test/support/paths.js';

export const INJECTED_NS = 'bench-injected';
export const PLAIN_NS = 'bench-plain';
/** Injected by a copy of deploy/base's webhook with `reinvocationPolicy: Never` (see onceWebhook). */
export const ONCE_NS = 'bench-injected-once';
const ONCE_WEBHOOK = 'once.bench.sidekick.dev';
const ONCE_LABEL = { 'bench.sidekick.dev/reinvocation': 'never' };
/** Allowed, unchanged, by the raw floor of `npm run bench` (bench/floors/raw.ts) registered as a webhook. */
export const FLOOR_NS = 'bench-floor';
const FLOOR_WEBHOOK = 'floor.bench.sidekick.dev';
const FLOOR_LABEL = { 'bench.sidekick.dev/webhook': 'raw-floor' };
const ADMISSION = 'apiserver_admission_webhook_admission_duration_seconds';

export type Variant = 'injected' | 'once' | 'floor' | 'plain';
const NAMESPACES: Record<Variant, string> = {
  injected: INJECTED_NS,
  once: ONCE_NS,
  floor: FLOOR_NS,
  plain: PLAIN_NS,
};
const WEBHOOKS: Record<Variant, string> = {
  injected: WEBHOOK,
  once: ONCE_WEBHOOK,
  floor: FLOOR_WEBHOOK,
  plain: WEBHOOK,
};

export interface CreateSettings {
  vegeta: string;
  /** Open-loop rates, Pods a second; 0 is the saturated run. */
  rates: number[];
  /** Each rate runs `segments` times for each namespace, alternating which goes first. */
  segments: number;
  segmentSeconds: number;
  saturatedWorkers: number;
}

export interface CreateRow {
  rate: number;
  variant: Variant;
  sent: number;
  created: number;
  failed: number;
  perSecond: number;
  latencyMs: Summary;
  /** CPU of each control-plane process per created Pod, in ms. */
  cpuMsPerPod: Record<string, number>;
  /** Calls of sidekick's webhook that the apiserver counted during these runs. */
  webhookCalls: number;
  /** sidekick's admission duration histogram as the apiserver recorded it (cumulative, by le). */
  webhookBuckets: Record<string, number>;
  webhookMeanMs: number;
  generatorCpuShare: number;
  firstError?: string;
  load: [number, number];
}

interface Segment {
  result: CreateResult;
  cpu: Record<string, number>;
  before: Sample[];
  after: Sample[];
  seconds: number;
}

/**
 * deploy/base's Pod webhook as it is, but named apart, `reinvocationPolicy: Never` and selecting
 * ONCE_NS only: what a Pod costs when sidekick is called once (see bench/README.md on why it is
 * called twice otherwise).
 */
async function onceWebhook(
  env: E2eEnvironment,
  name = ONCE_WEBHOOK,
  labels: Record<string, string> = ONCE_LABEL,
  url = env.injector.url,
): Promise<JsonObject> {
  const base = (await loadKustomization(repoPath('deploy/base'))).find(
    (o) => o.kind === 'MutatingWebhookConfiguration',
  );
  const webhook = isObject(base) && Array.isArray(base.webhooks) ? base.webhooks[0] : undefined;
  if (!isObject(webhook)) throw new Error('deploy/base has no Pod webhook');
  const config: JsonObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: `sidekick-bench-${name.split('.')[0] ?? name}` },
    webhooks: [{ ...webhook, name, reinvocationPolicy: 'Never', namespaceSelector: { matchLabels: labels } }],
  };
  return withLocalClientConfig(config, url, env.webhookTls.ca);
}

/** The raw floor on a free port with the webhook's certificate; the control plane stops it. */
async function startFloor(env: E2eEnvironment): Promise<string> {
  const port = await freePort();
  const floor = ManagedProcess.start(
    'raw-floor',
    process.execPath,
    [
      join(ROOT, 'dist/bench/floors/raw.js'),
      `--tls-cert=${env.webhookTls.certFile}`,
      `--tls-key=${env.webhookTls.keyFile}`,
      `--port=${String(port)}`,
    ],
    { logDir: join(env.cp.dir, 'logs') },
  );
  env.cp.processes.push(floor);
  await waitFor(
    () =>
      new Promise<true | undefined>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => {
          resolve(undefined);
        });
      }),
    { timeoutMs: 10_000, what: 'the raw floor to listen' },
  );
  return `https://127.0.0.1:${String(port)}/mutate`;
}

function processCpu(env: E2eEnvironment): Record<string, number> {
  const cpu: Record<string, number> = {};
  for (const p of env.cp.processes) {
    if (p.pid === undefined || !p.running) continue;
    const name = p.name.startsWith('sidekick-serve')
      ? 'sidekick'
      : p.name === 'raw-floor'
        ? 'webhook floor'
        : p.name;
    cpu[name] = (cpu[name] ?? 0) + cpuSeconds(p.pid);
  }
  return cpu;
}

async function segment(
  env: E2eEnvironment,
  settings: CreateSettings,
  workDir: string,
  namespace: string,
  rate: number,
): Promise<Segment> {
  const before = await apiserverMetrics(env.cp);
  const cpuBefore = processCpu(env);
  const started = Date.now();
  const result = await createPods({
    vegeta: settings.vegeta,
    api: await apiTarget(env.cp),
    namespace,
    pod: benchPod(),
    rate,
    seconds: settings.segmentSeconds,
    workers: rate === 0 ? settings.saturatedWorkers : 64,
    workDir,
  });
  const seconds = (Date.now() - started) / 1000;
  const cpuAfter = processCpu(env);
  const after = await apiserverMetrics(env.cp);
  await deleteAllPods(env.cp, namespace);
  const cpu: Record<string, number> = {};
  for (const [name, value] of Object.entries(cpuAfter)) cpu[name] = value - (cpuBefore[name] ?? 0);
  return { result, cpu, before, after, seconds };
}

function row(rate: number, variant: Variant, segments: Segment[], load: [number, number]): CreateRow {
  const sidekick = { name: WEBHOOKS[variant], operation: 'CREATE', type: 'admit' };
  const latencies = segments.flatMap((s) => s.result.latenciesMs);
  const created = latencies.length;
  const cpuMsPerPod: Record<string, number> = {};
  for (const s of segments) {
    for (const [name, value] of Object.entries(s.cpu)) cpuMsPerPod[name] = (cpuMsPerPod[name] ?? 0) + value;
  }
  for (const name of Object.keys(cpuMsPerPod))
    cpuMsPerPod[name] = round(((cpuMsPerPod[name] ?? 0) * 1000) / Math.max(1, created));
  const webhookBuckets: Record<string, number> = {};
  let calls = 0;
  let sum = 0;
  for (const s of segments) {
    calls += sumOf(s.after, `${ADMISSION}_count`, sidekick) - sumOf(s.before, `${ADMISSION}_count`, sidekick);
    sum += sumOf(s.after, `${ADMISSION}_sum`, sidekick) - sumOf(s.before, `${ADMISSION}_sum`, sidekick);
    const before = buckets(s.before, ADMISSION, sidekick);
    for (const [le, count] of buckets(s.after, ADMISSION, sidekick))
      webhookBuckets[le] = (webhookBuckets[le] ?? 0) + count - (before.get(le) ?? 0);
  }
  const seconds = segments.reduce((a, s) => a + s.seconds, 0);
  const generator = segments.reduce((a, s) => a + s.result.generatorCpuSeconds, 0);
  const firstError = segments.map((s) => s.result.firstError).find((e) => e !== undefined);
  return {
    rate,
    variant,
    sent: segments.reduce((a, s) => a + s.result.sent, 0),
    created,
    failed: segments.reduce((a, s) => a + s.result.failed, 0),
    perSecond: round(segments.reduce((a, s) => a + s.result.perSecond, 0) / segments.length),
    latencyMs: summarize(latencies),
    cpuMsPerPod,
    webhookCalls: calls,
    webhookBuckets,
    webhookMeanMs: calls > 0 ? round((sum / calls) * 1000) : Number.NaN,
    generatorCpuShare: round(generator / seconds, 2),
    ...(firstError !== undefined ? { firstError } : {}),
    load,
  };
}

/**
 * Pods created through the apiserver in a namespace opted in (sidekick called on every create)
 * and in one that is not (the namespaceSelector keeps the webhook out), the same Pod body, each
 * rate run in segments that alternate between the two, so that the machine's drift falls on both.
 */
export async function createPhase(env: E2eEnvironment, settings: CreateSettings): Promise<CreateRow[]> {
  const workDir = join(env.cp.dir, 'bench-create');
  await mkdir(workDir, { recursive: true });
  await env.createNamespace(INJECTED_NS, INJECTION_LABEL);
  await env.createNamespace(ONCE_NS, ONCE_LABEL);
  await env.createNamespace(FLOOR_NS, FLOOR_LABEL);
  await env.createNamespace(PLAIN_NS, {});
  await env.api.apply(await onceWebhook(env));
  await env.api.apply(await onceWebhook(env, FLOOR_WEBHOOK, FLOOR_LABEL, await startFloor(env)));
  const variants: Variant[] = ['injected', 'once', 'floor', 'plain'];
  // A warm-up for each: connections to the webhook, the apiserver's caches, V8's JIT in sidekick.
  const warm = { ...settings, segmentSeconds: 5 };
  for (const v of variants) await segment(env, warm, workDir, NAMESPACES[v], 50);
  const rows: CreateRow[] = [];
  for (const rate of settings.rates) {
    const runs: Record<Variant, Segment[]> = { injected: [], once: [], floor: [], plain: [] };
    const loadStart = load1();
    for (let i = 0; i < settings.segments; i++) {
      // Each segment starts with another variant, so that none always follows the same one.
      const order = variants.map((_, k) => variants[(k + i) % variants.length] as Variant);
      for (const v of order) {
        const s = await segment(env, settings, workDir, NAMESPACES[v], rate);
        runs[v].push(s);
        process.stderr.write(
          `create ${rate === 0 ? 'saturated' : `${String(rate)}/s`} ${v}: ${String(s.result.created)} created, ` +
            `${String(s.result.failed)} failed, p50 ${String(round(summarize(s.result.latenciesMs).p50))} ms\n`,
        );
      }
    }
    const load: [number, number] = [round(loadStart, 2), round(load1(), 2)];
    for (const v of variants) rows.push(row(rate, v, runs[v], load));
  }
  return rows;
}
