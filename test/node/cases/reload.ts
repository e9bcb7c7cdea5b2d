// config-watcher on a running Pod: the real `sidekick watch` from the sidekick image sees kubelet
// swap the ConfigMap volume and tells the app, by signal through the shared PID namespace (same
// non-root UID, no pods/exec anywhere) or by POST to its reload endpoint on localhost.
import assert from 'node:assert/strict';
import { isObject } from '../../../src/json.js';
import { INJECT, nativeSidecarNames } from '../../e2e/harness/objects.js';
import { SYNC_FREQUENCY, type NodeEnvironment } from '../harness/environment.js';
import { allRunning, appContainer, containerLog, logLine, nodePod, waitForPod } from '../harness/pods.js';
import { configMap } from './templates.js';

const NS = 'node-reload';

async function reloadAfterUpdate(
  env: NodeEnvironment,
  pod: string,
  configMapName: string,
  event: string,
): Promise<{ latencyMs: number; count: number }> {
  const api = env.e2e.api;
  const started = await logLine(api, NS, pod, 'app', (l) => l.event === 'started');
  assert.equal(started.fields.config, 'version=1');
  const updatedAt = Date.now();
  await env.apply(configMap(NS, configMapName, { 'config.txt': 'version=2\n' }));
  const reloaded = await logLine(api, NS, pod, 'app', (l) => l.event === event, 120_000);
  assert.equal(reloaded.fields.config, 'version=2', 'the app read the new file when told to');
  // One change, one notification: nothing more arrives after the debounce.
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const count = (await containerLog(api, NS, pod, 'app')).filter((l) => l.event === event).length;
  return { latencyMs: reloaded.at - updatedAt, count };
}

export function reloadCases(env: NodeEnvironment): void {
  env.test(
    'config-watcher, signal mode: a ConfigMap update reaches the app as exactly one SIGHUP',
    async () => {
      const api = env.e2e.api;
      await env.restrictedNamespace(NS);
      await env.apply(configMap(NS, 'hup-config', { 'config.txt': 'version=1\n' }));
      const input = nodePod({
        name: 'hup',
        annotations: { [INJECT]: 'config-watcher', 'sidekick.dev/config-watcher.process': 'hup-app' },
        spec: {
          // The watcher may signal only a process of its own UID: both run as the Pod's.
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            appContainer('app', ['/bin/hup-app', '--config=/etc/app/config.txt'], {
              volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
            }),
          ],
          volumes: [{ name: 'config', configMap: { name: 'hup-config' } }],
        },
      });
      const { object: stored } = await env.e2e.createPod(NS, input);
      assert.deepEqual(nativeSidecarNames(stored), ['config-watcher']);
      assert.equal(isObject(stored.spec) ? stored.spec.shareProcessNamespace : undefined, true);
      await waitForPod(api, NS, 'hup', 'running', (pod) => allRunning(pod, ['config-watcher', 'app']));
      const { latencyMs, count } = await reloadAfterUpdate(env, 'hup', 'hup-config', 'SIGHUP');
      process.stderr.write(
        `signal mode: API update → SIGHUP in the app ${(latencyMs / 1000).toFixed(1)} s (kubelet syncFrequency ${SYNC_FREQUENCY})\n`,
      );
      assert.equal(count, 1, 'exactly one SIGHUP');
      // Nothing here used pods/exec, and nothing sidekick installs may.
      let roles = 0;
      for (const kind of ['clusterroles', 'roles']) {
        const list = await api.get(
          `/apis/rbac.authorization.k8s.io/v1/${kind}?labelSelector=app.kubernetes.io%2Fname%3Dsidekick`,
        );
        const items = Array.isArray(list.items) ? list.items : [];
        roles += items.length;
        assert.ok(
          !JSON.stringify(items).includes('pods/exec'),
          `sidekick's ${kind} grant pods/exec: ${JSON.stringify(items)}`,
        );
      }
      assert.ok(roles > 0, "deploy/base's roles are installed");
    },
  );

  env.test(
    'config-watcher, URL mode: a ConfigMap update reaches the app as one POST to its reload endpoint',
    async () => {
      const api = env.e2e.api;
      await env.apply(configMap(NS, 'url-config', { 'config.txt': 'version=1\n' }));
      const input = nodePod({
        name: 'url',
        annotations: {
          [INJECT]: 'config-watcher',
          'sidekick.dev/config-watcher.url': 'http://127.0.0.1:8080/-/reload',
        },
        spec: {
          containers: [
            appContainer(
              'app',
              ['/bin/reload-app', '--listen=127.0.0.1:8080', '--config=/etc/app/config.txt'],
              {
                volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
              },
            ),
          ],
          volumes: [{ name: 'config', configMap: { name: 'url-config' } }],
        },
      });
      const { object: stored } = await env.e2e.createPod(NS, input);
      assert.notEqual(
        isObject(stored.spec) ? stored.spec.shareProcessNamespace : undefined,
        true,
        'URL mode needs no shared PID namespace',
      );
      await waitForPod(api, NS, 'url', 'running', (pod) => allRunning(pod, ['config-watcher', 'app']));
      const { latencyMs, count } = await reloadAfterUpdate(env, 'url', 'url-config', 'reload');
      process.stderr.write(
        `URL mode: API update → POST /-/reload ${(latencyMs / 1000).toFixed(1)} s (kubelet syncFrequency ${SYNC_FREQUENCY})\n`,
      );
      assert.equal(count, 1, 'exactly one reload');
    },
  );
}
