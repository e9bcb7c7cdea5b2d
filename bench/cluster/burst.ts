import { setTimeout as sleep } from 'node:timers/promises';
import { isObject, type JsonObject } from '../../src/json.js';
import type { E2eEnvironment } from '../../test/e2e/harness/environment.js';
import { INJECTION_LABEL, WEBHOOK } from '../../test/e2e/harness/environment.js';
import type { Injector } from '../../test/e2e/harness/injector.js';
import { loadKustomization, withLocalClientConfig } from '../../test/e2e/harness/manifests.js';
import { repoPath } from '../../test/support/paths.js';
import { round } from '../stats.js';
import { Balancer, type BalancerStats } from './balancer.js';
import { apiserverMetrics, deleteAllPods, podCount } from './cluster-api.js';
import { sumOf, type Sample } from '../../test/support/metrics-text.js';
import { benchPod } from './pod.js';

export interface BurstSettings {
  replicas: number;
  /** In the run with a failure, one replica is SIGKILLed once this many Pods exist. */
  killAt: number;
}

export interface BurstRow {
  failure: boolean;
  replicas: number;
  created: number;
  /** From scale-up to the last of the Pods stored. */
  secondsToAll: number;
  /** When the replica was killed, seconds after scale-up. */
  killedAtSeconds?: number;
  /** Pod POSTs the apiserver answered with something other than 201, by code. */
  failedCreates: Record<string, number>;
  /** sidekick's webhook calls that failed, as the apiserver counted them (by error type). */
  webhookErrors: Record<string, number>;
  webhookCalls: number;
  /** The ReplicaSet controller's FailedCreate events, with their counts. */
  failedCreateEvents: number;
  firstFailure?: string;
  balancer: BalancerStats;
}

const DEPLOYMENT = 'burst';

function deployment(namespace: string): JsonObject {
  const pod = benchPod();
  const metadata = isObject(pod.metadata) ? pod.metadata : {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEPLOYMENT, namespace },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: DEPLOYMENT } },
      template: {
        metadata: { labels: { app: DEPLOYMENT }, annotations: metadata.annotations ?? {} },
        spec: pod.spec ?? {},
      },
    },
  };
}

function byLabel(
  after: Sample[],
  before: Sample[],
  name: string,
  label: string,
  where: Record<string, string>,
) {
  const out: Record<string, number> = {};
  for (const sample of after) {
    if (sample.name !== name) continue;
    if (!Object.entries(where).every(([k, v]) => sample.labels[k] === v)) continue;
    const key = sample.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + sample.value;
  }
  for (const sample of before) {
    if (sample.name !== name) continue;
    if (!Object.entries(where).every(([k, v]) => sample.labels[k] === v)) continue;
    const key = sample.labels[label] ?? '';
    out[key] = (out[key] ?? 0) - sample.value;
  }
  for (const key of Object.keys(out)) if (out[key] === 0) Reflect.deleteProperty(out, key);
  return out;
}

async function failedCreateEvents(env: E2eEnvironment, namespace: string): Promise<[number, string?]> {
  const list = await env.api.get(
    `/api/v1/namespaces/${namespace}/events?fieldSelector=reason%3DFailedCreate`,
  );
  let count = 0;
  let first: string | undefined;
  for (const event of Array.isArray(list.items) ? list.items.filter(isObject) : []) {
    const series = isObject(event.series) && typeof event.series.count === 'number' ? event.series.count : 0;
    count += Math.max(typeof event.count === 'number' ? event.count : 1, series);
    if (first === undefined && typeof event.message === 'string') first = event.message.slice(0, 300);
  }
  return first === undefined ? [count] : [count, first];
}

/** Everything of one burst gone: the Deployment and its ReplicaSet orphan their Pods, then those go. */
async function cleanUp(env: E2eEnvironment, namespace: string): Promise<void> {
  const orphan = { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' } };
  await env.api.call('DELETE', `/apis/apps/v1/namespaces/${namespace}/deployments/${DEPLOYMENT}`, orphan);
  await env.api.call('DELETE', `/apis/apps/v1/namespaces/${namespace}/replicasets`, orphan);
  await deleteAllPods(env.cp, namespace);
}

async function burst(
  env: E2eEnvironment,
  settings: BurstSettings,
  namespace: string,
  victim: Injector | undefined,
  balancer: Balancer,
): Promise<BurstRow> {
  await env.createNamespace(namespace, INJECTION_LABEL);
  await env.api.apply(deployment(namespace));
  const statsBefore = structuredClone(balancer.stats);
  const before = await apiserverMetrics(env.cp);
  const started = Date.now();
  await env.api.call('PATCH', `/apis/apps/v1/namespaces/${namespace}/deployments/${DEPLOYMENT}`, {
    body: { spec: { replicas: settings.replicas } },
    contentType: 'application/merge-patch+json',
  });
  let killedAt: number | undefined;
  let count = 0;
  const deadline = started + 600_000;
  while (count < settings.replicas) {
    if (Date.now() > deadline) throw new Error(`only ${String(count)} Pods after 600 s`);
    await sleep(50);
    count = await podCount(env.cp, namespace);
    if (victim?.process.pid !== undefined && killedAt === undefined && count >= settings.killAt) {
      // SIGKILL, not SIGTERM: no draining, the connections it held are reset.
      process.kill(victim.process.pid, 'SIGKILL');
      killedAt = Date.now();
    }
  }
  const secondsToAll = (Date.now() - started) / 1000;
  // What the controller reports comes a little later than the Pods.
  await sleep(2000);
  const after = await apiserverMetrics(env.cp);
  const [events, firstFailure] = await failedCreateEvents(env, namespace);
  const pods = { resource: 'pods', verb: 'POST' };
  const failedCreates = byLabel(after, before, 'apiserver_request_total', 'code', pods);
  Reflect.deleteProperty(failedCreates, '201');
  const calls =
    sumOf(after, 'apiserver_admission_webhook_request_total', { name: WEBHOOK }) -
    sumOf(before, 'apiserver_admission_webhook_request_total', { name: WEBHOOK });
  const connections: Record<string, number> = {};
  for (const [port, n] of Object.entries(balancer.stats.connections))
    connections[port] = n - (statsBefore.connections[port] ?? 0);
  const row: BurstRow = {
    failure: victim !== undefined,
    replicas: settings.replicas,
    created: count,
    secondsToAll: round(secondsToAll),
    ...(killedAt === undefined ? {} : { killedAtSeconds: round((killedAt - started) / 1000) }),
    failedCreates,
    webhookErrors: byLabel(after, before, 'apiserver_admission_webhook_rejection_count', 'error_type', {
      name: WEBHOOK,
    }),
    webhookCalls: calls,
    failedCreateEvents: events,
    ...(firstFailure === undefined ? {} : { firstFailure }),
    balancer: {
      connections,
      failovers: balancer.stats.failovers - statsBefore.failovers,
      refused: balancer.stats.refused - statsBefore.refused,
    },
  };
  await cleanUp(env, namespace);
  return row;
}

/**
 * One Deployment scaled from 0 to `replicas`: kube-controller-manager's ReplicaSet controller
 * creates the Pods, each through sidekick, with two `sidekick serve` replicas behind a loopback
 * balancer that deploy/base's webhook configuration points at. First with both replicas up, then
 * again with one SIGKILLed mid-burst.
 */
export async function burstPhase(env: E2eEnvironment, settings: BurstSettings): Promise<BurstRow[]> {
  const second = await env.startInjector(env.webhookTls);
  const balancer = await Balancer.start([env.injector.port, second.port]);
  try {
    const base = (await loadKustomization(repoPath('deploy/base'))).find(
      (o) => o.kind === 'MutatingWebhookConfiguration',
    );
    if (!base) throw new Error('deploy/base has no MutatingWebhookConfiguration');
    const url = `https://127.0.0.1:${String(balancer.port)}/mutate`;
    await env.api.apply(withLocalClientConfig(base, url, env.webhookTls.ca));
    // The apiserver picks the new URL up from its informer.
    await sleep(2000);
    const rows: BurstRow[] = [];
    rows.push(await burst(env, settings, 'bench-burst-calm', undefined, balancer));
    process.stderr.write(`burst without failure: ${String(rows[0]?.secondsToAll)} s\n`);
    rows.push(await burst(env, settings, 'bench-burst-kill', second, balancer));
    process.stderr.write(`burst with a replica SIGKILLed: ${String(rows[1]?.secondsToAll)} s\n`);
    return rows;
  } finally {
    await balancer.stop();
  }
}
