// The problem native sidecars were made for: a Job whose Pod has a long-running sidecar completes
// once its app exits 0. The same proxy as a plain container keeps the Job running.
import assert from 'node:assert/strict';
import { isObject, type JsonObject } from '../../../src/json.js';
import { INJECT } from '../../e2e/harness/objects.js';
import { waitFor } from '../../e2e/harness/wait.js';
import type { NodeEnvironment } from '../harness/environment.js';
import {
  appContainer,
  containerStatus,
  logLine,
  nameOf,
  parseTime,
  podSpecOnNode,
  stateOf,
  str,
} from '../harness/pods.js';
import { credentialsSecret } from './templates.js';

const NS = 'node-jobs';
const DB_PROXY = {
  [INJECT]: 'db-proxy',
  'sidekick.dev/db-proxy.instance': 'sidekick-node:us-central1:orders',
  'sidekick.dev/db-proxy.credentials-secret': 'csql-key',
};

function job(name: string, annotations: Record<string, string>, spec: JsonObject): JsonObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { job: name }, annotations },
        spec: podSpecOnNode({ restartPolicy: 'Never', ...spec }),
      },
    },
  };
}

function condition(object: JsonObject, type: string): JsonObject | undefined {
  const conditions =
    isObject(object.status) && Array.isArray(object.status.conditions) ? object.status.conditions : [];
  return conditions.filter(isObject).find((c) => c.type === type && c.status === 'True');
}

const jobPath = (name: string): string => `/apis/batch/v1/namespaces/${NS}/jobs/${name}`;

export function jobCases(env: NodeEnvironment): void {
  env.test('a Job with an injected db-proxy completes when its app exits 0', async () => {
    const api = env.e2e.api;
    await env.restrictedNamespace(NS);
    await env.apply(credentialsSecret(NS, 'csql-key'));
    const app = appContainer('app', ['/bin/app', '--check=tcp:127.0.0.1:5432', '--exit-after=2s']);
    const createdAt = Date.now();
    await env.apply(job('report', DB_PROXY, { containers: [app] }));
    const [pod] = await env.e2e.podsWithLabel(NS, 'job=report');
    const podName = nameOf(pod);
    const complete = await waitFor(
      async () => {
        const current = await api.get(jobPath('report'));
        if (condition(current, 'Failed'))
          throw new Error(`the Job failed: ${JSON.stringify(current.status)}`);
        return condition(current, 'Complete') ? { job: current, seenAt: Date.now() } : undefined;
      },
      { timeoutMs: 90_000, what: 'Job report to be Complete' },
    );
    const check = await logLine(api, NS, podName, 'app', (l) => l.event === 'check');
    assert.equal(check.fields.ok, 'true', `the app reached the proxy: ${check.fields.detail ?? ''}`);
    const exited = await logLine(api, NS, podName, 'app', (l) => l.event === 'exiting');
    const finalPod = await api.get(`/api/v1/namespaces/${NS}/pods/${podName}`);
    const appTerminated = stateOf(containerStatus(finalPod, 'app'), 'terminated');
    assert.equal(appTerminated?.exitCode, 0);
    // The proxy was stopped by kubelet after the app, and exited cleanly (--exit-zero-on-sigterm).
    const proxyTerminated = stateOf(containerStatus(finalPod, 'db-proxy'), 'terminated');
    assert.equal(
      proxyTerminated?.exitCode,
      0,
      `db-proxy: ${JSON.stringify(containerStatus(finalPod, 'db-proxy'))}`,
    );
    const completeAt = parseTime(str(condition(complete.job, 'Complete')?.lastTransitionTime));
    process.stderr.write(
      `Job report: created ${new Date(createdAt).toISOString()}, app's last line ${new Date(exited.at).toISOString()}, ` +
        `app finishedAt ${str(appTerminated.finishedAt)}, Complete at ${new Date(completeAt).toISOString()} ` +
        `(seen ${((complete.seenAt - exited.at) / 1000).toFixed(1)} s after the app's last line, ${((complete.seenAt - createdAt) / 1000).toFixed(1)} s after creation)\n`,
    );
  });

  env.test('the same proxy as a plain container never lets the Job complete', async () => {
    const api = env.e2e.api;
    // The injected container exactly as the apiserver stored it, moved among the app containers.
    const injected = await env.e2e.podsWithLabel(NS, 'job=report');
    const spec = isObject(injected[0]?.spec) ? injected[0].spec : {};
    const inits = Array.isArray(spec.initContainers) ? spec.initContainers.filter(isObject) : [];
    const proxy = structuredClone(inits.find((c) => c.name === 'db-proxy'));
    assert.ok(proxy, 'the injected db-proxy container');
    delete proxy.restartPolicy;
    delete proxy.startupProbe;
    // The stored Pod's token mount names that Pod's token volume; the new Pod gets its own.
    if (Array.isArray(proxy.volumeMounts)) {
      proxy.volumeMounts = proxy.volumeMounts.filter(
        (m) => !(isObject(m) && m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'),
      );
    }
    const volumes = Array.isArray(spec.volumes)
      ? spec.volumes.filter(isObject).filter((v) => v.name === 'sidekick-db-proxy-credentials')
      : [];
    const app = appContainer('app', ['/bin/app', '--check=tcp:127.0.0.1:5432', '--exit-after=2s']);
    await env.apply(job('report-plain', {}, { containers: [app, proxy], volumes }));
    const [pod] = await env.e2e.podsWithLabel(NS, 'job=report-plain');
    const podName = nameOf(pod);
    await logLine(api, NS, podName, 'app', (l) => l.event === 'exiting');
    // Give it as long again as the injected Job needed to complete, and more.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    const current = await api.get(jobPath('report-plain'));
    assert.equal(condition(current, 'Complete'), undefined, 'the Job must still be running');
    const podNow = await api.get(`/api/v1/namespaces/${NS}/pods/${podName}`);
    assert.ok(
      stateOf(containerStatus(podNow, 'db-proxy'), 'running'),
      'the proxy keeps running after the app exited',
    );
    assert.equal(stateOf(containerStatus(podNow, 'app'), 'terminated')?.exitCode, 0);
    await api.request('DELETE', jobPath('report-plain'), { query: { propagationPolicy: 'Background' } });
  });
}
