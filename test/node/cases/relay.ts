// config-watcher in relay mode on the real node, against the real `sidekick relay` (started here
// beside the control plane, listening on the node's address so that Pods reach it through the CNI
// bridge): the app starts with its config, a ConfigMap update reloads it within seconds (measured
// beside kubelet mode in the same run), a stopped relay leaves the Pod on kubelet's copy, and a Pod
// is refused a ConfigMap it does not mount.
import assert from 'node:assert/strict';
import { generateServingCertificate } from '../../../src/certs/generate.js';
import { isObject, type JsonObject } from '../../../src/json.js';
import { RelayProcess } from '../../e2e/harness/relay.js';
import { podToken } from '../../e2e/harness/tokens.js';
import { INJECT } from '../../e2e/harness/objects.js';
import { writeCertificate } from '../../support/certificates.js';
import { POD_GATEWAY } from '../harness/node.js';
import { subscribe } from '../../support/relay-stream.js';
import { SYNC_FREQUENCY, syncFrequencyMs, type NodeEnvironment } from '../harness/environment.js';
import {
  allRunning,
  appContainer,
  configVolume,
  containerLog,
  logLine,
  nodePod,
  waitForPod,
} from '../harness/pods.js';
import { configMap } from './templates.js';

const NS = 'node-relay';
const ROUNDS = 5;
/**
 * kubelet-mode samples: each takes up to a sync period plus kubelet's ConfigMap cache, so at its
 * default 1m only the first rounds update the kubelet-mode Pod too, to keep the run in minutes.
 */
const KUBELET_ROUNDS = syncFrequencyMs() >= 60_000 ? 3 : ROUNDS;

function reloadPod(name: string, configMapName: string, annotations: Record<string, string>): JsonObject {
  const config = configVolume(configMapName);
  return nodePod({
    name,
    annotations: {
      [INJECT]: 'config-watcher',
      'sidekick.dev/config-watcher.url': 'http://127.0.0.1:8080/-/reload',
      ...annotations,
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
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const seconds = (ms: readonly number[]): string => ms.map((m) => `${(m / 1000).toFixed(2)} s`).join(', ');

export function relayCases(env: NodeEnvironment): void {
  env.test(
    'config-watcher, relay mode: starts with its config, reloads within seconds of an update, survives the relay stopping, and is refused what it does not mount',
    async () => {
      const api = env.e2e.api;
      const cp = env.e2e.cp;
      const nodeIp = POD_GATEWAY;
      const issued = await generateServingCertificate({
        ca: cp.pki.ca,
        days: 2,
        dnsNames: ['sidekick-relay'],
        ipAddresses: ['127.0.0.1', nodeIp],
      });
      const tls = { ...(await writeCertificate(cp.dir, issued, 'relay')), ca: cp.pki.ca.cert };
      // All addresses of the suite's own network namespace: loopback for its probe, the node's for Pods.
      const relay = await RelayProcess.start({
        kubeconfigPath: cp.kubeconfigPath,
        tls,
        logDir: cp.dir,
        args: ['--address=0.0.0.0', `--namespaces=${NS}`],
      });
      env.e2e.onTearDown(async () => {
        await relay.process.stop();
      });

      await env.restrictedNamespace(NS);
      await env.apply(configMap(NS, 'sidekick-relay-ca', { 'ca.crt': tls.ca }));
      await env.apply(configMap(NS, 'relay-config', { 'config.txt': 'version=1\n' }));
      await env.apply(configMap(NS, 'kubelet-config', { 'config.txt': 'version=1\n' }));
      const relayUrl = `https://${nodeIp}:${String(relay.port)}`;
      const { object: relayPod } = await env.e2e.createPod(
        NS,
        reloadPod('relayed', 'relay-config', {
          'sidekick.dev/config-watcher.source': 'relay',
          'sidekick.dev/config-watcher.relay': relayUrl,
        }),
      );
      await env.e2e.createPod(NS, reloadPod('kubelet', 'kubelet-config', {}));
      for (const pod of ['relayed', 'kubelet']) {
        await waitForPod(api, NS, pod, 'running', (p) => allRunning(p, ['config-watcher', 'app']));
        const started = await logLine(api, NS, pod, 'app', (l) => l.event === 'started');
        assert.equal(started.fields.config, 'version=1', `${pod}: the app read its config at start`);
      }
      try {
        await logLine(api, NS, 'relayed', 'config-watcher', (l) =>
          l.text.includes('subscribed to the relay'),
        );
      } catch (error) {
        const lines = await containerLog(api, NS, 'relayed', 'config-watcher');
        process.stderr.write(
          `--- relayed/config-watcher:\n${lines.map((l) => l.text).join('\n')}\n--- relay:\n${relay.process.tail()}\n`,
        );
        throw error;
      }

      // The same update to both ConfigMaps, ROUNDS times: API answered → the app's reload line.
      const relayMs: number[] = [];
      const kubeletMs: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const version = `version=${String(round + 1)}`;
        const at: Record<string, number> = {};
        const withKubelet = round <= KUBELET_ROUNDS;
        for (const name of withKubelet ? ['relay-config', 'kubelet-config'] : ['relay-config']) {
          await env.apply(configMap(NS, name, { 'config.txt': `${version}\n` }));
          at[name] = Date.now();
        }
        const reloadOf = (pod: string): ReturnType<typeof logLine> =>
          logLine(
            api,
            NS,
            pod,
            'app',
            (l) => l.event === 'reload' && l.fields.count === String(round),
            150_000,
          );
        const [relayed, kubelet] = await Promise.all([
          reloadOf('relayed'),
          withKubelet ? reloadOf('kubelet') : undefined,
        ]);
        assert.equal(relayed.fields.config, version);
        relayMs.push(relayed.at - (at['relay-config'] ?? NaN));
        if (kubelet !== undefined) {
          assert.equal(kubelet.fields.config, version);
          kubeletMs.push(kubelet.at - (at['kubelet-config'] ?? NaN));
        }
      }
      const sorted = [...relayMs].sort((a, b) => a - b);
      const kubeletSorted = [...kubeletMs].sort((a, b) => a - b);
      const summary = (all: readonly number[], ordered: readonly number[]): string =>
        `${seconds(all)}; p50 ${(percentile(ordered, 50) / 1000).toFixed(2)} s, p99 ${(percentile(ordered, 99) / 1000).toFixed(2)} s`;
      process.stderr.write(
        `relay mode: API update → POST /-/reload: ${summary(relayMs, sorted)}\n` +
          `kubelet mode, same run: ${summary(kubeletMs, kubeletSorted)} (kubelet syncFrequency ${SYNC_FREQUENCY})\n`,
      );
      assert.ok(percentile(sorted, 99) <= 5_000, `relay mode took ${seconds(relayMs)}`);

      // A Pod's token gets only what the Pod mounts: kubelet-config is the other Pod's.
      const token = await podToken(api, NS, relayPod);
      const refused = await subscribe({
        origin: relay.origin,
        ca: tls.ca,
        token,
        objects: [{ kind: 'ConfigMap', name: 'kubelet-config' }],
      });
      refused.close();
      assert.equal(refused.status, 403, `refused: ${String(refused.error)}`);
      assert.match(refused.error ?? '', /kubelet-config/);

      // The relay stops (SIGTERM: shutdown to its subscribers): the update still comes, through kubelet.
      await relay.process.stop();
      await logLine(api, NS, 'relayed', 'config-watcher', (l) => l.text.includes('relay unreachable'));
      const last = `version=${String(ROUNDS + 2)}`;
      await env.apply(configMap(NS, 'relay-config', { 'config.txt': `${last}\n` }));
      const updated = Date.now();
      const slow = await logLine(
        api,
        NS,
        'relayed',
        'app',
        (l) => l.event === 'reload' && l.fields.count === String(ROUNDS + 1),
        150_000,
      );
      assert.equal(slow.fields.config, last);
      process.stderr.write(
        `relay stopped: API update → POST through kubelet's copy ${((slow.at - updated) / 1000).toFixed(1)} s\n`,
      );
      const volumes =
        isObject(relayPod.spec) && Array.isArray(relayPod.spec.volumes) ? relayPod.spec.volumes : [];
      assert.ok(volumes.some((v) => isObject(v) && v.name === 'config' && isObject(v.emptyDir)));
    },
    // Each kubelet-mode round and the relay-stopped update wait for kubelet's sync (twice, at most).
    300_000 + (KUBELET_ROUNDS + 1) * 2 * syncFrequencyMs(),
  );
}
