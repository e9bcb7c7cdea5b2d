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
import { configMap, credentialsSecret } from './templates.js';

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

async function waitComplete(
  env: NodeEnvironment,
  name: string,
): Promise<{ job: JsonObject; seenAt: number }> {
  return waitFor(
    async () => {
      const current = await env.e2e.api.get(jobPath(name));
      if (condition(current, 'Failed')) throw new Error(`the Job failed: ${JSON.stringify(current.status)}`);
      return condition(current, 'Complete') ? { job: current, seenAt: Date.now() } : undefined;
    },
    { timeoutMs: 90_000, what: `Job ${name} to be Complete` },
  );
}

/**
 * vault-agent in pre-populate mode: a plain init container (the Vault Agent stand-in) renders a
 * secret and a ConfigMap template once and exits 0 before the app starts; the Job completes.
 */
function prePopulateCase(env: NodeEnvironment): void {
  env.test(
    'vault-agent pre-populate-only renders once as a plain init container, and the Job completes',
    async () => {
      const api = env.e2e.api;
      // The namespace is the first Job case's.

      await env.apply(
        configMap(NS, 'vault-agent-templates', { 'app.env.ctmpl': 'DB_USER={{ .Data.username }}\n' }),
      );
      const annotations = {
        [INJECT]: 'vault-agent',
        'sidekick.dev/vault-agent.role': 'migrate',
        'sidekick.dev/vault-agent.address': 'http://127.0.0.1:8200',
        'sidekick.dev/vault-agent.secrets': 'db.json=database/creds/migrate',
        'sidekick.dev/vault-agent.templates': 'app.env=app.env.ctmpl',
        'sidekick.dev/vault-agent.pre-populate-only': 'true',
      };
      const app = appContainer('app', [
        '/bin/app',
        '--check=file:/vault/secrets/db.json',
        '--check=file:/vault/secrets/app.env',
        '--exit-after=1s',
      ]);
      await env.apply(job('migrate', annotations, { containers: [app] }));
      const [pod] = await env.e2e.podsWithLabel(NS, 'job=migrate');
      const podName = nameOf(pod);
      const stored =
        isObject(pod?.spec) && Array.isArray(pod.spec.initContainers) ? pod.spec.initContainers : [];
      const agent = stored.filter(isObject).find((c) => c.name === 'vault-agent');
      assert.ok(agent, 'vault-agent is an init container');
      assert.equal(agent.restartPolicy, undefined, 'a plain init container, not a native sidecar');
      assert.equal(agent.startupProbe, undefined);
      await waitComplete(env, 'migrate');
      for (const target of ['file:/vault/secrets/db.json', 'file:/vault/secrets/app.env']) {
        const line = await logLine(
          api,
          NS,
          podName,
          'app',
          (l) => l.event === 'check' && l.fields.target === target,
        );
        assert.equal(line.fields.ok, 'true', `${target}: ${line.fields.detail ?? ''}`);
      }
      const env_ = await logLine(
        api,
        NS,
        podName,
        'app',
        (l) => l.fields.target === 'file:/vault/secrets/app.env',
      );
      assert.match(
        env_.fields.detail ?? '',
        /DB_USER=\{\{ \.Data\.username \}\}/,
        'the ConfigMap template was the source',
      );
      await logLine(api, NS, podName, 'vault-agent', (l) => l.event === 'exiting');
      const finalPod = await api.get(`/api/v1/namespaces/${NS}/pods/${podName}`);
      const agentDone = stateOf(containerStatus(finalPod, 'vault-agent'), 'terminated');
      const appDone = stateOf(containerStatus(finalPod, 'app'), 'terminated');
      assert.equal(agentDone?.exitCode, 0, JSON.stringify(containerStatus(finalPod, 'vault-agent')));
      assert.equal(appDone?.exitCode, 0);
      // It had finished before the app started: an init container, not a sidecar beside it.
      assert.ok(
        parseTime(str(agentDone.finishedAt)) <= parseTime(str(appDone.startedAt)),
        `vault-agent finished ${str(agentDone.finishedAt)}, the app started ${str(appDone.startedAt)}`,
      );
    },
  );
}

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
  prePopulateCase(env);
}
