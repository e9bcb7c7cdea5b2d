// The checks sidekick makes at admission, seen on the node: a Pod's raised resources are what the
// kernel enforces, and what would fail only once containers run (two containers on one port, a
// watcher that may not signal the app) is refused before kubelet starts anything. Next to each
// refusal, the same Pod without the check runs on the node and fails the way the message says.
import assert from 'node:assert/strict';
import { injectPod } from '../../../src/inject/index.js';
import { isObject, type JsonObject } from '../../../src/json.js';
import { rejection } from '../../e2e/harness/environment.js';
import { INJECT, nativeSidecarNames } from '../../e2e/harness/objects.js';
import { bytes, cgroupLimits, cores, resourcesOf, sharesFor } from '../harness/cgroups.js';
import type { NodeEnvironment } from '../harness/environment.js';
import { containersOfPod } from '../harness/node.js';
import {
  allRunning,
  appContainer,
  AS_APP_USER,
  configVolume,
  containerLog,
  logLine,
  nodePod,
  RESTRICTED_CONTAINER,
  waitForPod,
} from '../harness/pods.js';
import { configMap } from './templates.js';

const NS = 'node-checks';
/** Not opted in: what is created there reaches the node as written, as with no injector at all. */
const PLAIN_NS = 'node-checks-plain';

/** Waits out a few kubelet sync loops, then asserts the node holds no container for the Pod. */
async function nothingStarted(env: NodeEnvironment, namespace: string, name: string): Promise<void> {
  const got = await env.e2e.api.request('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
  assert.equal(got.status, 404, `Pod ${namespace}/${name} is not stored`);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.deepEqual(containersOfPod(namespace, name), [], `containerd holds nothing for ${name}`);
}

/** The Pod sidekick renders for `input` in namespace NS, as the CLI would (one code path). */
function rendered(env: NodeEnvironment, input: JsonObject): JsonObject {
  const outcome = injectPod(input, { templates: env.e2e.templates, namespace: NS });
  assert.equal(outcome.decision, 'inject', JSON.stringify(outcome));
  return outcome.pod;
}

function appOf(pod: JsonObject): JsonObject {
  const containers = isObject(pod.spec) && Array.isArray(pod.spec.containers) ? pod.spec.containers : [];
  const app = containers.filter(isObject).find((c) => c.name === 'app');
  assert.ok(app, 'the Pod has its app container');
  return app;
}

export function checkCases(env: NodeEnvironment): void {
  env.test(
    "a Pod's resource annotations raise config-watcher's resources, and its cgroups enforce them",
    async () => {
      const api = env.e2e.api;
      await env.restrictedNamespace(NS);
      await env.restrictedNamespace(PLAIN_NS, false);
      await env.apply(configMap(NS, 'sized-config', { 'config.txt': 'version=1\n' }));
      const config = configVolume('sized-config');
      const asked = {
        requests: { cpu: '50m', memory: '64Mi' },
        limits: { cpu: '1500m', memory: '256Mi' },
      };
      const sized = (name: string, limitsMemory: string): JsonObject =>
        nodePod({
          name,
          annotations: {
            [INJECT]: 'config-watcher',
            'sidekick.dev/config-watcher.url': 'http://127.0.0.1:8080/-/reload',
            'sidekick.dev/config-watcher.requests.cpu': asked.requests.cpu,
            'sidekick.dev/config-watcher.requests.memory': asked.requests.memory,
            'sidekick.dev/config-watcher.limits.cpu': asked.limits.cpu,
            'sidekick.dev/config-watcher.limits.memory': limitsMemory,
          },
          spec: {
            securityContext: AS_APP_USER,
            containers: [
              appContainer('app', ['/bin/reload-app', '--config=/etc/app/config.txt'], config.mount),
            ],
            volumes: [config.volume],
          },
        });
      const { object: stored } = await env.e2e.createPod(NS, sized('sized', asked.limits.memory));
      assert.deepEqual(resourcesOf(stored, 'config-watcher'), asked);
      const running = await waitForPod(api, NS, 'sized', 'running', (pod) =>
        allRunning(pod, ['config-watcher', 'app']),
      );
      // The sandbox, the watcher and the app: what nothingStarted finds none of for a refused Pod.
      assert.ok(containersOfPod(NS, 'sized').length >= 3, 'containerd lists the Pod by its labels');
      const enforced = cgroupLimits(running, 'config-watcher');
      assert.equal(enforced.memoryBytes, bytes(asked.limits.memory), 'memory.limit_in_bytes');
      assert.equal(enforced.cpuCores, cores(asked.limits.cpu), 'cpu.cfs_quota_us / cpu.cfs_period_us');
      assert.equal(enforced.cpuShares, sharesFor(asked.requests.cpu), 'cpu.shares');
      // The raised watcher still does its job: one update, one reload.
      await logLine(api, NS, 'sized', 'app', (l) => l.event === 'started');
      await env.apply(configMap(NS, 'sized-config', { 'config.txt': 'version=2\n' }));
      const reloaded = await logLine(api, NS, 'sized', 'app', (l) => l.event === 'reload', 120_000);
      assert.equal(reloaded.fields.config, 'version=2');

      // Past the template's bounds, refused with the annotation and the bound named.
      const refused = await rejection(env.e2e.createPod(NS, sized('oversized', '2Gi')));
      assert.match(refused.message, /sidekick\.dev\/config-watcher\.limits\.memory/);
      assert.match(refused.message, /512Mi/);
      await nothingStarted(env, NS, 'oversized');
    },
  );

  env.test(
    'a port an app declares and a sidecar takes is refused before any container starts; undeclared, the app cannot bind on the node',
    async () => {
      const api = env.e2e.api;
      const sink = (declared: boolean): JsonObject =>
        nodePod({
          name: declared ? 'port-clash' : 'port-clash-undeclared',
          annotations: {
            [INJECT]: 'otel-collector',
            'sidekick.dev/otel-collector.endpoint': 'http://127.0.0.1:14317',
          },
          spec: {
            securityContext: AS_APP_USER,
            containers: [
              appContainer('app', ['/bin/otlp-sink', '--listen=127.0.0.1:4317'], {
                ...(declared ? { ports: [{ name: 'otlp', containerPort: 4317 }] } : {}),
              }),
            ],
          },
        });
      const refused = await rejection(env.e2e.createPod(NS, sink(true)));
      assert.match(
        refused.message,
        /port 4317\/TCP clash: sidecar otel-collector and container app both listen on it/,
      );
      await nothingStarted(env, NS, 'port-clash');

      // What the refusal spares: sidekick cannot see a port the app does not declare, and then the
      // collector, started first, holds 4317 and the app fails to bind it, again and again.
      const { object: stored } = await env.e2e.createPod(NS, sink(false));
      assert.deepEqual(nativeSidecarNames(stored), ['otel-collector']);
      const failed = await logLine(
        api,
        NS,
        'port-clash-undeclared',
        'app',
        (l) => l.event === 'error' && (l.fields.message ?? '').includes('address already in use'),
        120_000,
      );
      assert.match(failed.fields.message ?? '', /listen 127\.0\.0\.1:4317/);
      await api.request('DELETE', `/api/v1/namespaces/${NS}/pods/port-clash-undeclared`);
    },
  );

  env.test(
    'signal mode with an app of another UID is refused before any container starts; admitted with one UID; run anyway, the signal is denied',
    async () => {
      const api = env.e2e.api;
      await env.apply(configMap(NS, 'hup-config', { 'config.txt': 'version=1\n' }));
      await env.apply(configMap(PLAIN_NS, 'hup-config', { 'config.txt': 'version=1\n' }));
      const config = configVolume('hup-config');
      const pod = (name: string, appUid?: number): JsonObject =>
        nodePod({
          name,
          annotations: { [INJECT]: 'config-watcher', 'sidekick.dev/config-watcher.process': 'hup-app' },
          spec: {
            securityContext: AS_APP_USER,
            containers: [
              appContainer('app', ['/bin/hup-app', '--config=/etc/app/config.txt'], {
                ...config.mount,
                ...(appUid === undefined ? {} : { securityContext: withUid(appUid) }),
              }),
            ],
            volumes: [config.volume],
          },
        });
      const refused = await rejection(env.e2e.createPod(NS, pod('uid-mismatch', 1001)));
      assert.match(
        refused.message,
        /config-watcher signals the app, which needs the same UID for both, but config-watcher runs as 1000 and container app runs as 1001/,
      );
      assert.match(refused.message, /spec\.securityContext\.runAsUser/);
      await nothingStarted(env, NS, 'uid-mismatch');

      // The fix the message gives, one UID on the Pod, is admitted (reload.ts runs that Pod).
      const { object: admitted } = await env.e2e.createPod(NS, pod('uid-one'));
      assert.deepEqual(nativeSidecarNames(admitted), ['config-watcher']);
      await api.request('DELETE', `/api/v1/namespaces/${NS}/pods/uid-one`);

      // What the refusal spares: the Pod sidekick renders with one UID, given another to its app and
      // created where no injector looks. It runs, and the first reload fails with EPERM.
      const unchecked = rendered(env, pod('uid-unchecked'));
      const app = appOf(unchecked);
      app.securityContext = withUid(1001);
      if (isObject(unchecked.metadata)) unchecked.metadata.namespace = PLAIN_NS;
      await env.e2e.createPod(PLAIN_NS, unchecked);
      await waitForPod(api, PLAIN_NS, 'uid-unchecked', 'running', (p) =>
        allRunning(p, ['config-watcher', 'app']),
      );
      await logLine(api, PLAIN_NS, 'uid-unchecked', 'app', (l) => l.event === 'started');
      await env.apply(configMap(PLAIN_NS, 'hup-config', { 'config.txt': 'version=2\n' }));
      const denied = await logLine(
        api,
        PLAIN_NS,
        'uid-unchecked',
        'config-watcher',
        (l) => l.text.includes('not permitted to send SIGHUP'),
        120_000,
      );
      assert.match(denied.text, /the process runs as uid 1001, this agent as uid 1000/);
      const heard = (await containerLog(api, PLAIN_NS, 'uid-unchecked', 'app')).filter(
        (l) => l.event === 'SIGHUP',
      );
      assert.deepEqual(heard, [], 'the app never heard of the change');
      await api.request('DELETE', `/api/v1/namespaces/${PLAIN_NS}/pods/uid-unchecked`);
    },
  );
}

function withUid(uid: number): JsonObject {
  return { ...RESTRICTED_CONTAINER, runAsUser: uid };
}
