// `sidekick relay` on a real control plane (its own: etcd, kube-apiserver, kube-controller-manager):
// real TokenRequest tokens bound to real Pods, checked by the relay through real TokenReviews, and
// ConfigMaps changed through the API. There is no node: the Pods stay Pending, which is all a
// token needs. The refusals are the security model of docs/relay.md; each is asserted by status
// and by the message the subscriber gets.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateCa } from '../../src/certs/generate.js';
import type { JsonObject } from '../../src/json.js';
import type { RelayEvent } from '../../src/relay/protocol.js';
import { repoPath } from '../support/paths.js';
import { subscribe } from '../support/relay-stream.js';
import { AgentProcess, KubeletDir } from '../watch/helpers.js';
import { controlPlaneUnavailable } from './harness/binaries.js';
import { runSidekick } from './harness/cli.js';
import { startControlPlane, type ControlPlane } from './harness/controlplane.js';
import { loopbackServingPair, type TlsPair } from './harness/injector.js';
import { kubeconfigYaml } from './harness/kubeconfig.js';
import { loadKustomization, loadManifest } from './harness/manifests.js';
import { freePort } from './harness/ports.js';
import { forgetOnExit, removeOnExit } from './harness/processes.js';
import { RelayProcess } from './harness/relay.js';
import { createPod, expiredCopy, podToken } from './harness/tokens.js';
import { waitFor } from './harness/wait.js';

const unavailable = controlPlaneUnavailable();
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');
const NS = 'apps';

const objectNamed =
  (name: string, check: (data: Record<string, string>) => boolean = () => true) =>
  (event: RelayEvent): boolean =>
    event.event === 'object' &&
    event.object.name === name &&
    !('deleted' in event.object) &&
    check(event.object.data);

function containerArgs(object: JsonObject | undefined): string[] {
  const job = (object?.spec as JsonObject | undefined)?.jobTemplate as JsonObject | undefined;
  const pod = ((job?.spec as JsonObject | undefined)?.template as JsonObject | undefined)?.spec as
    JsonObject | undefined;
  const containers = pod?.containers;
  const first: unknown = Array.isArray(containers) ? containers[0] : undefined;
  const args = typeof first === 'object' && first !== null && 'args' in first ? first.args : undefined;
  return Array.isArray(args) ? args.map(String) : [];
}

const pemBlocks = (pem: string): string[] =>
  pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The app's reload endpoint: counts POSTs. */
async function reloadCounter(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/-/reload` };
}

void describe(
  'sidekick relay on a real control plane',
  { skip: unavailable !== undefined && !inCi ? unavailable : false },
  () => {
    let cp!: ControlPlane;
    let dir!: string;
    let tls!: TlsPair;
    let relay!: RelayProcess;
    // What after() must undo, whatever before() got to.
    const started: { cp?: ControlPlane; relay?: RelayProcess; dir?: string } = {};
    let pod: JsonObject;
    let token: string;

    const configMap = (name: string, data: Record<string, string>): Promise<unknown> =>
      cp.api.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data });

    before(
      async () => {
        if (unavailable !== undefined)
          throw new Error(`${unavailable}. CI is set, so this suite fails instead.`);
        dir = await mkdtemp(join(tmpdir(), 'sidekick-relay-e2e-'));
        removeOnExit(dir);
        started.dir = dir;
        cp = await startControlPlane();
        started.cp = cp;
        await cp.api.call('POST', '/api/v1/namespaces', {
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
        });
        await waitFor(
          async () =>
            (await cp.api.request('GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`)).status === 200
              ? true
              : undefined,
          { timeoutMs: 30_000, what: `the default ServiceAccount of ${NS}` },
        );
        await configMap('app-config', { 'app.conf': 'level=1\n' });
        await configMap('other-config', { 'x.conf': 'not yours\n' });
        await cp.api.apply({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'app-secret', namespace: NS },
          stringData: { pw: 'hunter2' },
        });
        pod = await createPod(cp.api, NS, 'app', [
          { name: 'config', configMap: { name: 'app-config' } },
          { name: 'gone', configMap: { name: 'not-created-yet', optional: true } },
          { name: 'creds', secret: { secretName: 'app-secret' } },
          {
            name: 'bundle',
            projected: { sources: [{ configMap: { name: 'bundle-config', optional: true } }] },
          },
        ]);
        token = await podToken(cp.api, NS, pod);
        tls = await loopbackServingPair(await generateCa('relay-e2e-ca'), dir, 'relay');
        relay = await RelayProcess.start({
          kubeconfigPath: cp.kubeconfigPath,
          tls,
          logDir: dir,
          args: ['--rate=50'],
        });
        started.relay = relay;
      },
      { timeout: 45 * 60_000 },
    );

    after(async () => {
      await started.relay?.process.stop();
      await started.cp?.stop();
      if (started.dir !== undefined) {
        await rm(started.dir, { recursive: true, force: true });
        forgetOnExit(started.dir);
      }
    });

    /** A kubeconfig holding only a TokenRequest token of the ServiceAccount sidekick/<name>. */
    const serviceAccountKubeconfig = async (name: string, file: string): Promise<string> => {
      const { object } = await cp.api.call(
        'POST',
        `/api/v1/namespaces/sidekick/serviceaccounts/${name}/token`,
        {
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { expirationSeconds: 600 },
          },
        },
      );
      const status = object.status as JsonObject;
      const path = join(dir, file);
      await writeFile(
        path,
        kubeconfigYaml(cp.server, cp.pki.ca.cert, {
          token: typeof status.token === 'string' ? status.token : '',
        }),
        { mode: 0o600 },
      );
      return path;
    };

    const open = (objects: Parameters<typeof subscribe>[0]['objects'], bearer: string | undefined = token) =>
      subscribe({ origin: relay.origin, ca: tls.ca, token: bearer, objects });

    it('streams a mounted ConfigMap, then its change within seconds', async () => {
      const stream = await open([
        { kind: 'ConfigMap', name: 'app-config' },
        { kind: 'ConfigMap', name: 'not-created-yet' },
      ]);
      try {
        assert.equal(stream.status, 200);
        await stream.next((e) => e.event === 'synced');
        assert.deepEqual(
          stream.events.map((e) =>
            e.event === 'object' && !('deleted' in e.object)
              ? { event: 'object', object: { ...e.object, resourceVersion: 'x' } }
              : e,
          ),
          [
            {
              event: 'object',
              object: {
                kind: 'ConfigMap',
                name: 'app-config',
                resourceVersion: 'x',
                data: { 'app.conf': 'level=1\n' },
              },
            },
            { event: 'object', object: { kind: 'ConfigMap', name: 'not-created-yet', deleted: true } },
            { event: 'synced' },
          ],
        );
        // Counted before the change: its event can arrive before the apply's own answer does.
        const seen = stream.events.length;
        const changedAt = performance.now();
        await configMap('app-config', { 'app.conf': 'level=2\n' });
        await stream.next(
          objectNamed('app-config', (d) => d['app.conf'] === 'level=2\n'),
          5000,
          seen,
        );
        const latencyMs = stream.arrivals[stream.arrivals.length - 1]! - changedAt;
        assert.ok(latencyMs < 3000, `the change took ${String(latencyMs)} ms`);
        // An object the Pod mounts but that did not exist yet arrives when it is created.
        await configMap('not-created-yet', { late: 'yes' });
        await stream.next(
          objectNamed('not-created-yet', (d) => d.late === 'yes'),
          5000,
          seen,
        );
        // A projected volume's source counts as mounted.
        const projected = await open([{ kind: 'ConfigMap', name: 'bundle-config' }]);
        assert.equal(projected.status, 200);
        projected.close();
      } finally {
        stream.close();
      }
    });

    it('refuses a malformed request (400) and a request without a token (401)', async () => {
      const malformed = await subscribe({ origin: relay.origin, ca: tls.ca, token, objects: [] });
      assert.equal(malformed.status, 400);
      assert.match(malformed.error ?? '', /at least one configmap/);
      const anonymous = await subscribe({
        origin: relay.origin,
        ca: tls.ca,
        token: undefined,
        objects: [{ kind: 'ConfigMap', name: 'app-config' }],
      });
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.error ?? '', /no bearer token/);
    });

    it('refuses a token for another audience (401)', async () => {
      const apiToken = await podToken(cp.api, NS, pod, ['https://kubernetes.default.svc']);
      const stream = await open([{ kind: 'ConfigMap', name: 'app-config' }], apiToken);
      assert.equal(stream.status, 401);
      assert.match(
        stream.error ?? '',
        /refused by the apiserver: .*audience|not for audience sidekick-relay/i,
      );
    });

    it('refuses an expired token (401)', async () => {
      const expired = await expiredCopy(token, cp.pki.serviceAccountPrivateKeyFile);
      const stream = await open([{ kind: 'ConfigMap', name: 'app-config' }], expired);
      assert.equal(stream.status, 401);
      assert.match(stream.error ?? '', /expired/);
    });

    it('refuses the token of a deleted Pod (401 from TokenReview)', async () => {
      const doomed = await createPod(cp.api, NS, 'doomed', [
        { name: 'config', configMap: { name: 'app-config' } },
      ]);
      const doomedToken = await podToken(cp.api, NS, doomed);
      await cp.api.call('DELETE', `/api/v1/namespaces/${NS}/pods/doomed`, {
        query: { gracePeriodSeconds: '0' },
      });
      await waitFor(
        async () =>
          (await cp.api.request('GET', `/api/v1/namespaces/${NS}/pods/doomed`)).status === 404
            ? true
            : undefined,
        {
          timeoutMs: 30_000,
          what: 'Pod doomed to be gone',
        },
      );
      const stream = await open([{ kind: 'ConfigMap', name: 'app-config' }], doomedToken);
      assert.equal(stream.status, 401);
      assert.match(stream.error ?? '', /refused by the apiserver: .*(doomed|not found|invalidated)/i);
    });

    it('refuses a ConfigMap the Pod does not mount (403)', async () => {
      const stream = await open([
        { kind: 'ConfigMap', name: 'app-config' },
        { kind: 'ConfigMap', name: 'other-config' },
      ]);
      assert.equal(stream.status, 403);
      assert.equal(
        stream.error,
        'Pod apps/app does not mount ConfigMap other-config as a volume: a Pod gets only what it mounts',
      );
    });

    it('refuses a Secret while --secrets is off, even one the Pod mounts (403)', async () => {
      const stream = await open([{ kind: 'Secret', name: 'app-secret' }]);
      assert.equal(stream.status, 403);
      assert.match(
        stream.error ?? '',
        /Pod apps\/app asked for Secret app-secret: this relay does not serve Secrets/,
      );
    });

    it('counts each refusal by reason, and the pushes', async () => {
      const text = await relay.metrics();
      const count = (reason: string): number =>
        Number(
          new RegExp(`sidekick_relay_refusals_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 'NaN',
        );
      assert.equal(count('not-mounted'), 1);
      assert.equal(count('secrets-disabled'), 1);
      assert.equal(count('malformed'), 1);
      assert.equal(count('no-token'), 1);
      assert.ok(count('unauthenticated') + count('wrong-audience') >= 3);
      assert.match(text, /sidekick_relay_pushes_total\{kind="ConfigMap"\} [1-9]/);
    });

    it('serves a mounted Secret with --secrets, base64 as in the API', async () => {
      const withSecrets = await RelayProcess.start({
        kubeconfigPath: cp.kubeconfigPath,
        tls,
        logDir: dir,
        args: ['--secrets', `--namespaces=${NS}`],
        name: 'sidekick-relay-secrets',
      });
      try {
        const stream = await subscribe({
          origin: withSecrets.origin,
          ca: tls.ca,
          token,
          objects: [{ kind: 'Secret', name: 'app-secret' }],
        });
        assert.equal(stream.status, 200);
        const event = await stream.next(objectNamed('app-secret'));
        assert.ok(event.event === 'object' && !('deleted' in event.object));
        assert.deepEqual(event.object.data, { pw: Buffer.from('hunter2').toString('base64') });
        stream.close();
      } finally {
        await withSecrets.process.stop();
      }
    });

    it('fans one change out to every subscriber once, paced at --rate', async () => {
      const count = 150;
      const second = await createPod(cp.api, NS, 'app-2', [
        { name: 'config', configMap: { name: 'app-config' } },
      ]);
      const tokens = [token, await podToken(cp.api, NS, second)];
      const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
      const streams = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          subscribe({
            origin: relay.origin,
            ca: tls.ca,
            agent,
            token: tokens[i % 2],
            objects: [{ kind: 'ConfigMap', name: 'app-config' }],
          }),
        ),
      );
      try {
        assert.deepEqual(new Set(streams.map((st) => st.status)), new Set([200]));
        await Promise.all(streams.map((st) => st.next((e) => e.event === 'synced')));
        const marks = streams.map((st) => st.events.length);
        await configMap('app-config', { 'app.conf': 'level=fanout\n' });
        const isNew = objectNamed('app-config', (d) => d['app.conf'] === 'level=fanout\n');
        await Promise.all(streams.map((st, i) => st.next(isNew, 30_000, marks[i])));
        await new Promise((resolve) => setTimeout(resolve, 500));
        const arrivals = streams.map((st, i) => {
          const got = st.events.slice(marks[i]).filter(isNew);
          assert.equal(got.length, 1, `subscriber ${String(i)} got the change ${String(got.length)} times`);
          return st.arrivals[st.events.findIndex((e, k) => k >= (marks[i] ?? 0) && isNew(e))] ?? NaN;
        });
        // --rate=50: 150 deliveries cannot take less than (150 - 1) / 50 s, however fast the machine.
        const spreadMs = Math.max(...arrivals) - Math.min(...arrivals);
        assert.ok(
          spreadMs >= ((count - 1) / 50) * 1000 * 0.95,
          `all ${String(count)} within ${String(spreadMs)} ms`,
        );
      } finally {
        for (const st of streams) st.close();
        agent.destroy();
      }
    });

    it('deploy/relay and its DaemonSet overlay apply with strict validation; the relay runs on its RBAC alone', async () => {
      const [namespace] = await loadManifest(repoPath('deploy/base/namespace.yaml'));
      await cp.api.apply(namespace!);
      const objects = await loadKustomization(repoPath('deploy/relay'));
      assert.deepEqual(objects.map((o) => o.kind).sort(), [
        'ClusterRole',
        'ClusterRole',
        'ClusterRoleBinding',
        'ClusterRoleBinding',
        'CronJob',
        'Deployment',
        'Job',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
        'ServiceAccount',
      ]);
      for (const object of objects) await cp.api.apply(object);
      const role = await cp.api.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/sidekick-relay');
      assert.deepEqual(role.rules, [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      ]);
      const service = await cp.api.get('/api/v1/namespaces/sidekick/services/sidekick-relay');
      assert.deepEqual(service.spec && (service.spec as JsonObject).ports, [
        { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
      ]);
      // The restricted namespace admits the relay's Pods (the controllers create them; no node runs them).
      await waitFor(
        async () => {
          const pods = await cp.api.get(
            '/api/v1/namespaces/sidekick/pods?labelSelector=app.kubernetes.io/component%3Drelay',
          );
          return Array.isArray(pods.items) && pods.items.length === 2 ? true : undefined;
        },
        { timeoutMs: 60_000, what: 'the two relay Pods' },
      );
      const overlay = await loadKustomization(repoPath('deploy/overlays/relay-daemonset'));
      assert.ok(!overlay.some((o) => o.kind === 'Deployment' || o.kind === 'PodDisruptionBudget'));
      for (const object of overlay) await cp.api.apply(object);
      const local = await cp.api.get('/api/v1/namespaces/sidekick/services/sidekick-relay');
      assert.equal((local.spec as JsonObject).internalTrafficPolicy, 'Local');
      await cp.api.get('/apis/apps/v1/namespaces/sidekick/daemonsets/sidekick-relay');

      // A relay with nothing but the ServiceAccount's own credentials serves a subscriber.
      const { object } = await cp.api.call(
        'POST',
        '/api/v1/namespaces/sidekick/serviceaccounts/sidekick-relay/token',
        {
          body: {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { expirationSeconds: 600 },
          },
        },
      );
      const status = object.status as JsonObject;
      const relayToken = typeof status.token === 'string' ? status.token : '';
      const kubeconfigPath = join(dir, 'relay-sa.kubeconfig');
      await writeFile(kubeconfigPath, kubeconfigYaml(cp.server, cp.pki.ca.cert, { token: relayToken }), {
        mode: 0o600,
      });
      const leastPrivilege = await RelayProcess.start({
        kubeconfigPath,
        tls,
        logDir: dir,
        name: 'sidekick-relay-sa',
      });
      try {
        const stream = await subscribe({
          origin: leastPrivilege.origin,
          ca: tls.ca,
          token,
          objects: [{ kind: 'ConfigMap', name: 'app-config' }],
        });
        assert.equal(stream.status, 200);
        await stream.next(objectNamed('app-config'));
        stream.close();
      } finally {
        await leastPrivilege.process.stop();
      }
    });

    it("publishes the relay's CA to every namespace and a relay-mode watcher trusts the relay through it, across a CA rotation", async () => {
      const [namespace] = await loadManifest(repoPath('deploy/base/namespace.yaml'));
      await cp.api.apply(namespace!);
      const objects = await loadKustomization(repoPath('deploy/relay'));
      for (const object of objects) await cp.api.apply(object);
      const publisher = await cp.api.get(
        '/apis/rbac.authorization.k8s.io/v1/clusterroles/sidekick-relay-ca-publisher',
      );
      assert.deepEqual(publisher.rules, [
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: ['sidekick-relay-ca'],
          verbs: ['get', 'update'],
        },
      ]);
      await cp.api.call('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps-2' } },
      });
      // The CronJob's own arguments, run with nothing but its ServiceAccount's credentials; the
      // certificate also names 127.0.0.1, where this relay listens (no Service DNS here).
      const cronJob = objects.find((o) => o.kind === 'CronJob');
      const args = containerArgs(cronJob);
      assert.ok(args.includes('--publish-ca=sidekick-relay-ca'), args.join(' '));
      const kubeconfig = await serviceAccountKubeconfig('sidekick-relay-certs', 'relay-certs.kubeconfig');
      const home = join(dir, 'certs-home');
      await mkdir(home, { recursive: true });
      const certs = async (...extra: string[]): Promise<string> => {
        const run = await runSidekick(
          [...args, `--kubeconfig=${kubeconfig}`, '--ip-address=127.0.0.1', '--rotation-step=2s', ...extra],
          home,
        );
        assert.equal(run.code, 0, run.stderr);
        return run.stdout;
      };
      assert.match(await certs(), /configmap sidekick-relay-ca: ca\.crt set in [^;]*\bapps\b/);

      const secretCa = async (): Promise<string> => {
        const secret = await cp.api.get('/api/v1/namespaces/sidekick/secrets/sidekick-relay-tls');
        return Buffer.from(text((secret.data as JsonObject)['ca.crt']), 'base64').toString();
      };
      /** Every CA the Secret holds (serving, next, previous): what a rotation phase trusts. */
      const secretTrusted = async (): Promise<string[]> => {
        const secret = await cp.api.get('/api/v1/namespaces/sidekick/secrets/sidekick-relay-tls');
        const data = secret.data as JsonObject;
        return ['ca.crt', 'next-ca.crt', 'previous-ca.crt']
          .map((key) => Buffer.from(text(data[key]), 'base64').toString())
          .flatMap(pemBlocks)
          .sort();
      };
      const publishedCa = async (namespace: string): Promise<string> => {
        const cm = await cp.api.get(`/api/v1/namespaces/${namespace}/configmaps/sidekick-relay-ca`);
        return text((cm.data as JsonObject)['ca.crt']);
      };
      assert.equal(await publishedCa(NS), await secretCa());
      assert.equal(await publishedCa('apps-2'), await secretCa());
      assert.equal(
        (await cp.api.request('GET', '/api/v1/namespaces/kube-system/configmaps/sidekick-relay-ca')).status,
        404,
        'system namespaces are left alone',
      );
      assert.match(await certs(), /nothing to change; \d+ already up to date/);

      // What kubelet does for the relay's Pod (the Secret mounted) and the app's Pod (its token
      // and the published ca.crt projected beside it), done here by hand: no node runs them.
      const files = join(dir, 'ca-distribution');
      await mkdir(join(files, 'watch'), { recursive: true });
      const mountSecret = async (): Promise<TlsPair> => {
        const secret = await cp.api.get('/api/v1/namespaces/sidekick/secrets/sidekick-relay-tls');
        const data = secret.data as JsonObject;
        const decode = (key: string) => Buffer.from(text(data[key]), 'base64').toString();
        await writeFile(join(files, 'tls.crt'), decode('tls.crt'));
        await writeFile(join(files, 'tls.key'), decode('tls.key'), { mode: 0o600 });
        return { certFile: join(files, 'tls.crt'), keyFile: join(files, 'tls.key'), ca: decode('ca.crt') };
      };
      const mountCa = async (): Promise<void> => {
        await writeFile(join(files, 'ca.crt'), await publishedCa(NS));
      };
      await writeFile(join(files, 'token'), token);
      await mountCa();
      const original = KubeletDir.create({ 'app.conf': 'from-kubelet\n' }, files);
      const port = await freePort();
      const relayTls = await mountSecret();
      let ownRelay = await RelayProcess.start({
        kubeconfigPath: cp.kubeconfigPath,
        tls: relayTls,
        logDir: dir,
        name: 'sidekick-relay-ca',
        port,
      });
      const reloads = await reloadCounter();
      let watcher: AgentProcess | undefined;
      try {
        await configMap('app-config', { 'app.conf': 'relay-ca-1\n' });
        watcher = await AgentProcess.start([
          `--url=${reloads.url}`,
          '--debounce=100ms',
          '--source=relay',
          `--relay=https://127.0.0.1:${String(port)}`,
          `--relay-volume=${JSON.stringify({
            volume: 'config',
            dir: join(files, 'watch'),
            fallback: original.path,
            defaultMode: 0o644,
            sources: [
              { kind: 'ConfigMap', name: 'app-config', items: [{ key: 'app.conf', path: 'app.conf' }] },
            ],
          })}`,
          `--relay-token=${join(files, 'token')}`,
          `--relay-ca=${join(files, 'ca.crt')}`,
          '--relay-startup-timeout=30s',
        ]);
        const content = () => readFile(join(files, 'watch', 'app.conf'), 'utf8');
        // Ready with the relay's content, not the kubelet copy: the TLS handshake trusted the CA.
        assert.equal(await content(), 'relay-ca-1\n');
        const follows = async (value: string): Promise<void> => {
          await configMap('app-config', { 'app.conf': value });
          await waitFor(async () => ((await content()) === value ? true : undefined), {
            timeoutMs: 20_000,
            what: `the watcher to lay out ${JSON.stringify(value)} from the relay`,
          }).catch((error: unknown) => {
            const logs = watcher?.logs.slice(-15).map((l) => JSON.stringify(l)) ?? [];
            throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs.join('\n')}`);
          });
        };
        await follows('relay-ca-2\n');

        // A CA rotation, one phase per run: trust-new publishes both CAs while the relay still
        // serves from the old one; serve-new moves the relay onto the new CA; stable drops the old.
        const oldCa = await secretCa();
        assert.match(await certs('--force'), /phase trust-new/);
        const both = await publishedCa(NS);
        assert.deepEqual(pemBlocks(both).sort(), await secretTrusted());
        assert.equal(pemBlocks(both).length, 2);
        assert.ok(both.includes(oldCa.trim()) && both.length > oldCa.length, 'trust-new: old and new CA');
        await mountCa();
        await sleep(2_100);
        assert.match(await certs(), /phase serve-new/);
        assert.equal(await publishedCa(NS), both);
        assert.deepEqual(pemBlocks(both).sort(), await secretTrusted());
        // The relay's replica restarts on the new certificate at the same address; the watcher
        // reconnects (a new handshake, the new CA) and keeps taking changes from it.
        await ownRelay.process.stop();
        ownRelay = await RelayProcess.start({
          kubeconfigPath: cp.kubeconfigPath,
          tls: await mountSecret(),
          logDir: dir,
          name: 'sidekick-relay-ca-2',
          port,
        });
        await follows('relay-ca-3\n');
        await sleep(2_100);
        assert.match(await certs(), /phase stable/);
        const stable = await publishedCa(NS);
        assert.equal(stable, await secretCa());
        assert.ok(!stable.includes(oldCa.trim()), 'stable: the old CA is no longer published');
        await mountCa();
        await ownRelay.process.stop();
        ownRelay = await RelayProcess.start({
          kubeconfigPath: cp.kubeconfigPath,
          tls: await mountSecret(),
          logDir: dir,
          name: 'sidekick-relay-ca-3',
          port,
        });
        await follows('relay-ca-4\n');
        assert.equal(await publishedCa('apps-2'), stable);
      } finally {
        await watcher?.stop();
        await ownRelay.process.stop();
        await new Promise((resolve) => reloads.server.close(resolve));
      }
    });

    it('on SIGTERM tells every subscriber to reconnect, closes and exits 0', async () => {
      const stream = await open([{ kind: 'ConfigMap', name: 'app-config' }]);
      await stream.next((e) => e.event === 'synced');
      const exit = relay.process.stop(15_000);
      await stream.next((e) => e.event === 'shutdown', 10_000);
      await stream.closed;
      assert.deepEqual(await exit, { code: 0, signal: null });
    });
  },
);
