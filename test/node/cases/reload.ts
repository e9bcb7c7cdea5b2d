// config-watcher on a running Pod: the real `sidekick watch` from the sidekick image sees kubelet
// swap the ConfigMap volume and tells the app, by signal through the shared PID namespace (same
// non-root UID, no pods/exec anywhere) or by POST to its reload endpoint on localhost.
import assert from 'node:assert/strict';
import { isObject } from '../../../src/json.js';
import { INJECT, nativeSidecarNames } from '../../e2e/harness/objects.js';
import { SYNC_FREQUENCY, type NodeEnvironment } from '../harness/environment.js';
import {
  allRunning,
  appContainer,
  AS_APP_USER,
  configVolume,
  containerLog,
  logLine,
  nodePod,
  waitForPod,
} from '../harness/pods.js';
import { configMap } from './templates.js';

const NS = 'node-reload';

const ROUNDS = 3;

/**
 * Updates the ConfigMap ROUNDS times, each once the app has reacted to the one before, and
 * returns the latency of each (API update answered → the app's line) and how many notifications
 * the app got in all.
 */
async function reloadsAfterUpdates(
  env: NodeEnvironment,
  pod: string,
  configMapName: string,
  event: string,
): Promise<{ latenciesMs: number[]; count: number }> {
  const api = env.e2e.api;
  const started = await logLine(api, NS, pod, 'app', (l) => l.event === 'started');
  assert.equal(started.fields.config, 'version=1');
  const latenciesMs: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const version = `version=${String(round + 1)}`;
    await env.apply(configMap(NS, configMapName, { 'config.txt': `${version}\n` }));
    const updatedAt = Date.now();
    const reloaded = await logLine(
      api,
      NS,
      pod,
      'app',
      (l) => l.event === event && l.fields.count === String(round),
      120_000,
    );
    assert.equal(reloaded.fields.config, version, 'the app read the new file when told to');
    latenciesMs.push(reloaded.at - updatedAt);
  }
  // One change, one notification: nothing more arrives after the debounce.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const count = (await containerLog(api, NS, pod, 'app')).filter((l) => l.event === event).length;
  return { latenciesMs, count };
}

const secondsList = (ms: number[]): string => ms.map((m) => `${(m / 1000).toFixed(1)} s`).join(', ');

export function reloadCases(env: NodeEnvironment): void {
  env.test(
    'config-watcher, signal mode: each ConfigMap update reaches the app as exactly one SIGHUP',
    async () => {
      const api = env.e2e.api;
      await env.restrictedNamespace(NS);
      await env.apply(configMap(NS, 'hup-config', { 'config.txt': 'version=1\n' }));
      const config = configVolume('hup-config');
      const input = nodePod({
        name: 'hup',
        annotations: { [INJECT]: 'config-watcher', 'sidekick.dev/config-watcher.process': 'hup-app' },
        spec: {
          // The watcher may signal only a process of its own UID: both run as the Pod's.
          securityContext: AS_APP_USER,
          containers: [appContainer('app', ['/bin/hup-app', '--config=/etc/app/config.txt'], config.mount)],
          volumes: [config.volume],
        },
      });
      const { object: stored } = await env.e2e.createPod(NS, input);
      assert.deepEqual(nativeSidecarNames(stored), ['config-watcher']);
      assert.equal(isObject(stored.spec) ? stored.spec.shareProcessNamespace : undefined, true);
      await waitForPod(api, NS, 'hup', 'running', (pod) => allRunning(pod, ['config-watcher', 'app']));
      const { latenciesMs, count } = await reloadsAfterUpdates(env, 'hup', 'hup-config', 'SIGHUP');
      process.stderr.write(
        `signal mode: API update → SIGHUP in the app: ${secondsList(latenciesMs)} (kubelet syncFrequency ${SYNC_FREQUENCY})
`,
      );
      assert.equal(count, ROUNDS, 'exactly one SIGHUP per update');
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
    'config-watcher, URL mode: each ConfigMap update reaches the app as one POST to its reload endpoint',
    async () => {
      const api = env.e2e.api;
      await env.apply(configMap(NS, 'url-config', { 'config.txt': 'version=1\n' }));
      const config = configVolume('url-config');
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
              config.mount,
            ),
          ],
          volumes: [config.volume],
        },
      });
      const { object: stored } = await env.e2e.createPod(NS, input);
      assert.notEqual(
        isObject(stored.spec) ? stored.spec.shareProcessNamespace : undefined,
        true,
        'URL mode needs no shared PID namespace',
      );
      await waitForPod(api, NS, 'url', 'running', (pod) => allRunning(pod, ['config-watcher', 'app']));
      const { latenciesMs, count } = await reloadsAfterUpdates(env, 'url', 'url-config', 'reload');
      process.stderr.write(
        `URL mode: API update → POST /-/reload: ${secondsList(latenciesMs)} (kubelet syncFrequency ${SYNC_FREQUENCY})
`,
      );
      assert.equal(count, ROUNDS, 'exactly one reload per update');
    },
  );
}

/**
 * Relay mode with no relay to reach (`https://127.0.0.1:9` inside the Pod: nothing listens): the
 * watcher fills the emptyDir the app mounts from the kubelet-mounted original, so the app starts
 * with its config, and an update still arrives through kubelet, at kubelet's speed.
 */
export function relayFallbackCases(env: NodeEnvironment): void {
  env.test(
    'config-watcher, relay mode without a reachable relay: the app starts with its config and updates arrive through kubelet',
    async () => {
      const api = env.e2e.api;
      await env.apply(configMap(NS, 'fallback-config', { 'config.txt': 'version=1\n' }));
      const config = configVolume('fallback-config');
      const input = nodePod({
        name: 'fallback',
        annotations: {
          [INJECT]: 'config-watcher',
          'sidekick.dev/config-watcher.url': 'http://127.0.0.1:8080/-/reload',
          'sidekick.dev/config-watcher.source': 'relay',
          'sidekick.dev/config-watcher.relay': 'https://127.0.0.1:9',
        },
        spec: {
          containers: [
            appContainer(
              'app',
              ['/bin/reload-app', '--listen=127.0.0.1:8080', '--config=/etc/app/config.txt'],
              config.mount,
            ),
          ],
          volumes: [config.volume],
        },
      });
      const { object: stored } = await env.e2e.createPod(NS, input);
      const volumes = isObject(stored.spec) && Array.isArray(stored.spec.volumes) ? stored.spec.volumes : [];
      const app = volumes.find((v) => isObject(v) && v.name === 'config');
      assert.ok(isObject(app) && isObject(app.emptyDir), 'the app mounts an emptyDir in relay mode');
      await waitForPod(api, NS, 'fallback', 'running', (pod) => allRunning(pod, ['config-watcher', 'app']));
      const { latenciesMs, count } = await reloadsAfterUpdates(env, 'fallback', 'fallback-config', 'reload');
      process.stderr.write(
        `relay mode, relay unreachable: API update → POST /-/reload through kubelet's copy: ${secondsList(latenciesMs)} (kubelet syncFrequency ${SYNC_FREQUENCY})
`,
      );
      assert.equal(count, ROUNDS, 'exactly one reload per update');
      const watcher = await containerLog(api, NS, 'fallback', 'config-watcher');
      assert.ok(
        watcher.some((l) => l.text.includes('relay unreachable')),
        'the watcher said it follows the kubelet-mounted volume',
      );
    },
  );
}
