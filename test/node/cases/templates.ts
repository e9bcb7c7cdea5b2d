// Every built-in template's rendered container really starts, under the restricted Pod Security
// profile, with its probes, mounts, read-only root filesystem, user and resources: the things
// the apiserver cannot check and a wrong template gets wrong.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { isObject, type JsonObject } from '../../../src/json.js';
import { INJECT, nativeSidecarNames } from '../../e2e/harness/objects.js';
import { bytes, cgroupLimits, cores, processEnvironment, resourcesOf } from '../harness/cgroups.js';
import type { NodeEnvironment } from '../harness/environment.js';
import {
  allRunning,
  appContainer,
  AS_APP_USER,
  configVolume,
  containerStatus,
  fakeServiceAccountKey,
  getPod,
  logLine,
  nodePod,
  waitForPod,
} from '../harness/pods.js';

export const TEMPLATES_NS = 'node-templates';
const SIDECARS = ['config-watcher', 'db-proxy', 'log-shipper', 'otel-collector', 'vault-agent'];

/** A Secret with a service account key file for db-proxy's credentials-secret. */
export function credentialsSecret(namespace: string, name: string): JsonObject {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    stringData: { 'service_account.json': JSON.stringify(fakeServiceAccountKey(privateKey)) },
  };
}

export function configMap(namespace: string, name: string, data: Record<string, string>): JsonObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

export function templateCases(env: NodeEnvironment): void {
  env.test(
    'every built-in template starts under the restricted profile, with its probes, mounts and user',
    async () => {
      const api = env.e2e.api;
      await env.restrictedNamespace(TEMPLATES_NS);
      await env.apply(credentialsSecret(TEMPLATES_NS, 'csql-key'));
      await env.apply(configMap(TEMPLATES_NS, 'app-config', { 'config.txt': 'version=1\n' }));
      const config = configVolume('app-config');
      const annotations = {
        [INJECT]: SIDECARS.join(', '),
        'sidekick.dev/config-watcher.url': 'http://127.0.0.1:8080/-/reload',
        // Two instances, one proxy: each on its own port (5432, then 5433), as the proxy numbers them.
        'sidekick.dev/db-proxy.instance': 'sidekick-node:us-central1:orders, sidekick-node:us-central1:users',
        'sidekick.dev/db-proxy.auto-iam-authn': 'true',
        'sidekick.dev/db-proxy.credentials-secret': 'csql-key',
        'sidekick.dev/vault-agent.role': 'web',
        'sidekick.dev/vault-agent.secret': 'secret/data/web',
        // Nothing listens there: the collector exports nowhere and must still start.
        'sidekick.dev/otel-collector.endpoint': 'http://127.0.0.1:14317',
      };
      const checks = [
        'tcp:127.0.0.1:5432',
        'tcp:127.0.0.1:5433',
        'http://127.0.0.1:9801/startup',
        'tcp:127.0.0.1:4317',
        'tcp:127.0.0.1:4318',
        'http://127.0.0.1:13133/',
        'http://127.0.0.1:2020/api/v2/health',
        'http://127.0.0.1:9797/ready',
        'file:/vault/secrets/secret.json',
        'write:/var/log/app',
      ];
      const input = nodePod({
        name: 'all-templates',
        annotations,
        spec: {
          securityContext: AS_APP_USER,
          containers: [
            appContainer('app', ['/bin/reload-app', '--config=/etc/app/config.txt'], config.mount),
            appContainer('checker', ['/bin/app', ...checks.map((c) => `--check=${c}`)]),
          ],
          volumes: [config.volume],
        },
      });
      const { object: stored } = await env.e2e.createPod(TEMPLATES_NS, input);
      assert.deepEqual([...nativeSidecarNames(stored)].sort(), SIDECARS);
      const running = await waitForPod(
        api,
        TEMPLATES_NS,
        'all-templates',
        'with every sidecar started and both apps running',
        (pod) => allRunning(pod, [...SIDECARS, 'app', 'checker']),
      );
      for (const name of SIDECARS) {
        const spec =
          isObject(stored.spec) && Array.isArray(stored.spec.initContainers)
            ? stored.spec.initContainers
            : [];
        const container = spec.filter(isObject).find((c) => c.name === name);
        assert.equal(container?.restartPolicy, 'Always', `${name} is a native sidecar`);
      }
      // What each sidecar serves, seen from the app's side of localhost.
      for (const target of checks) {
        const line = await logLine(
          api,
          TEMPLATES_NS,
          'all-templates',
          'checker',
          (l) => l.event === 'check' && l.fields.target === target,
        );
        assert.equal(line.fields.ok, 'true', `${target}: ${line.fields.detail ?? ''}`);
      }
      // log-shipper's stand-in read what the app wrote into the shared volume.
      const shipped = await logLine(
        api,
        TEMPLATES_NS,
        'all-templates',
        'log-shipper',
        (l) => l.event === 'record',
      );
      assert.equal(shipped.fields.log, 'app line written at start');
      // The real Cloud SQL Auth Proxy and OpenTelemetry Collector said they were up.
      await logLine(api, TEMPLATES_NS, 'all-templates', 'db-proxy', (l) =>
        l.text.includes('ready for new connections'),
      );
      await logLine(api, TEMPLATES_NS, 'all-templates', 'otel-collector', (l) =>
        l.text.includes('Everything is ready'),
      );
      // Nothing crashed and came back: a wrong user, a missing writable directory or a failing probe
      // shows as restarts.
      const now = await getPod(api, TEMPLATES_NS, 'all-templates');
      for (const name of [...SIDECARS, 'app', 'checker']) {
        assert.equal(
          containerStatus(now, name)?.restartCount,
          0,
          `${name} restarted: ${JSON.stringify(containerStatus(now, name))}`,
        );
      }
      // The template's limits are what the kernel enforces: the container's own cgroups.
      for (const name of SIDECARS) {
        const { limits } = resourcesOf(stored, name);
        const enforced = cgroupLimits(running, name);
        assert.equal(enforced.memoryBytes, bytes(limits.memory), `${name}: memory limit ${limits.memory}`);
        assert.equal(enforced.cpuCores, cores(limits.cpu), `${name}: cpu limit ${limits.cpu}`);
      }
    },
  );

  env.test(
    'otel-collector over OTLP/HTTP sends its header from a Secret to the backend, never written in the Pod',
    async () => {
      const api = env.e2e.api;
      // The namespace is the first case's.

      const key = 'node-api-key-7f3a';
      await env.apply({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'otel-key', namespace: TEMPLATES_NS },
        stringData: { 'api-key': key },
      });
      const annotations = {
        [INJECT]: 'otel-collector',
        // The backend stand-in in the same Pod: http:// with the port given.
        'sidekick.dev/otel-collector.endpoint': 'http://127.0.0.1:14318',
        'sidekick.dev/otel-collector.protocol': 'http',
        'sidekick.dev/otel-collector.headers': 'x-api-key=api-key',
        'sidekick.dev/otel-collector.headers-secret': 'otel-key',
        // A limit of the Pod's own: the Go runtime's soft limit must follow it.
        'sidekick.dev/otel-collector.limits.memory': '192Mi',
      };
      const input = nodePod({
        name: 'otel-http',
        annotations,
        spec: {
          securityContext: AS_APP_USER,
          containers: [
            appContainer('backend', ['/bin/otlp-sink', '--listen=127.0.0.1:14318', '--header=x-api-key']),
            appContainer('sender', ['/bin/app', '--check=otlp:http://127.0.0.1:4318/v1/traces']),
          ],
        },
      });
      const { object: stored } = await env.e2e.createPod(TEMPLATES_NS, input);
      assert.ok(!JSON.stringify(stored).includes(key), 'the header value is not in the stored Pod');
      const sent = await logLine(api, TEMPLATES_NS, 'otel-http', 'sender', (l) => l.event === 'check');
      assert.equal(sent.fields.ok, 'true', `the collector took the span: ${sent.fields.detail ?? ''}`);
      const request = await logLine(
        api,
        TEMPLATES_NS,
        'otel-http',
        'backend',
        (l) => l.event === 'request' && l.fields.path === '/v1/traces',
      );
      assert.equal(request.fields.method, 'POST');
      assert.equal(request.fields.header, key, 'the collector sent the header from the Secret');
      assert.equal(request.fields['content-type'], 'application/x-protobuf');

      // kubelet resolved GOMEMLIMIT from the limit the Pod set, in bytes, as Go reads it.
      const running = await waitForPod(api, TEMPLATES_NS, 'otel-http', 'running', (pod) =>
        allRunning(pod, ['otel-collector', 'backend', 'sender']),
      );
      const limit = cgroupLimits(running, 'otel-collector').memoryBytes;
      assert.equal(limit, bytes('192Mi'), 'memory.limit_in_bytes');
      assert.equal(processEnvironment(running, 'otel-collector').get('GOMEMLIMIT'), String(limit));
    },
  );
}
