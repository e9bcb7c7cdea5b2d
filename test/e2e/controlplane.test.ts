// sidekick on a real control plane: etcd, kube-apiserver (PodSecurity on) and
// kube-controller-manager built from the versions pinned in test/e2e/controlplane/go.mod, the
// real `sidekick serve` as a child process, and deploy/base applied with its webhook pointed at
// it. The apiserver validates every mutated Pod, so a bad patch fails here as in production.
// There are no nodes: Pods stay Pending, and the tests read back what the apiserver stored.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isObject, type JsonObject } from '../../src/json.js';
import { injectPod } from '../../src/inject/index.js';
import { builtinTemplateDir, loadTemplateDir } from '../../src/templates/load.js';
import type { TemplateSet } from '../../src/templates/types.js';
import { controlPlaneUnavailable } from './harness/binaries.js';
import { startControlPlane, type ControlPlane } from './harness/controlplane.js';
import { Injector, loopbackServingPair, type TlsPair } from './harness/injector.js';
import { KubeError, type KubeClient, type KubeResult } from './harness/kube.js';
import { kubeconfigYaml } from './harness/kubeconfig.js';
import { loadKustomization, withLocalClientConfig } from './harness/manifests.js';
import {
  annotationsOf,
  INJECT,
  initContainerNames,
  initContainers,
  jobPodTemplate,
  nativeSidecarNames,
  pod,
  podTemplate,
  specOf,
  statusSidecars,
  str,
} from './harness/objects.js';
import { repoPath } from './harness/paths.js';
import { RestartPolicyStripper } from './harness/stripper.js';
import { waitFor } from './harness/wait.js';

const unavailable = controlPlaneUnavailable();
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');

const INJECTION_LABEL = { 'sidekick.dev/injection': 'enabled' };
const WEBHOOK = 'inject.sidekick.dev';
/** Parameter values for the required (or one-of) parameters of the built-in templates. */
const EXAMPLES: Record<string, string> = {
  'db-proxy.instance': 'my-project:us-central1:my-db',
  'vault-agent.role': 'web',
  'vault-agent.secret': 'secret/data/web',
  'otel-collector.endpoint': 'otel-gateway.observability.svc:4317',
  'config-watcher.url': 'http://127.0.0.1:9090/-/reload',
  'config-watcher.process': 'nginx',
};

const execFileAsync = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI as a separate process, with only the environment given (no KUBECONFIG leaks in). */
async function sidekick(args: string[], home: string): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [repoPath('dist/src/main.js'), ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: home },
        timeout: 60_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: unknown; stderr?: unknown };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: String(failed.stdout), stderr: String(failed.stderr) };
  }
}

function annotationsFor(template: string, set: TemplateSet): Record<string, string> {
  const spec = set.templates.get(template);
  assert.ok(spec, `no template ${template}`);
  const annotations: Record<string, string> = { [INJECT]: template };
  const give = (param: string): boolean => {
    const value = EXAMPLES[`${template}.${param}`];
    if (value === undefined) return false;
    annotations[`sidekick.dev/${template}.${param}`] = value;
    return true;
  };
  for (const param of spec.parameters.filter((p) => p.required)) {
    assert.ok(give(param.name), `add an example value for ${template}.${param.name} to EXAMPLES`);
  }
  for (const group of spec.exactlyOneOf) {
    assert.ok(group.some(give), `add an example value for one of ${template}.${group.join('|')} to EXAMPLES`);
  }
  return annotations;
}

/** Containers without what the ServiceAccount admission adds (a token volume with a random name). */
function withoutTokenMounts(containers: JsonObject[]): JsonObject[] {
  return containers.map((c) => ({
    ...c,
    volumeMounts: (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).filter(
      (m) => !(isObject(m) && typeof m.name === 'string' && m.name.startsWith('kube-api-access-')),
    ),
  }));
}

function containersOf(object: JsonObject): JsonObject[] {
  const list = specOf(object).containers;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

async function rejection(promise: Promise<unknown>): Promise<KubeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KubeError) return error;
    throw error;
  }
  assert.fail('the apiserver accepted what it should have refused');
}

void describe(
  'sidekick on a real control plane',
  { skip: unavailable !== undefined && !inCi ? unavailable : false },
  () => {
    let cp: ControlPlane;
    let api: KubeClient;
    let templates: TemplateSet;
    let webhookTls: TlsPair;
    let injector: Injector;
    let stripper: RestartPolicyStripper | undefined;
    let logDir: string;

    const tails = (): string => (cp as ControlPlane | undefined)?.logTails(40) ?? '(no control plane)';

    /** A test that prints every process's log tail when it fails. */
    const e2e = (name: string, body: () => Promise<void>, timeout = 120_000): void => {
      void it(name, { timeout }, async () => {
        try {
          await body();
        } catch (error) {
          process.stderr.write(`\n--- logs after the failure of "${name}":\n${tails()}\n`);
          throw error;
        }
      });
    };

    const podsPath = (namespace: string): string => `/api/v1/namespaces/${namespace}/pods`;

    const createNamespace = async (name: string, labels: Record<string, string>): Promise<void> => {
      await api.create('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels },
      });
      // The apiserver's ServiceAccount admission refuses Pods until the controller made `default`.
      await waitFor(
        async () =>
          (await api.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200
            ? true
            : undefined,
        { timeoutMs: 30_000, what: `ServiceAccount ${name}/default` },
      );
    };

    const createPod = (
      namespace: string,
      object: JsonObject,
      query: Record<string, string> = {},
    ): Promise<KubeResult> => api.create(podsPath(namespace), object, query);

    const startInjector = async (tls: TlsPair, port?: number): Promise<Injector> => {
      const started = await Injector.start({ tls, logDir, ...(port === undefined ? {} : { port }) });
      cp.processes.push(started.process);
      return started;
    };

    /** Pods that a controller created, found by label. */
    const podsWithLabel = (namespace: string, selector: string, what: string): Promise<JsonObject[]> =>
      waitFor(
        async () => {
          const list = await api.get(`${podsPath(namespace)}?labelSelector=${encodeURIComponent(selector)}`);
          const items = Array.isArray(list.items) ? list.items.filter(isObject) : [];
          return items.length > 0 ? items : undefined;
        },
        { timeoutMs: 90_000, what },
      );

    before(
      async () => {
        if (unavailable !== undefined) {
          throw new Error(
            `${unavailable}. CI is set, so the end-to-end suite fails instead of being skipped.`,
          );
        }
        const loaded = await loadTemplateDir(builtinTemplateDir());
        assert.ok(
          loaded.ok,
          `the built-in templates do not load: ${loaded.ok ? '' : loaded.problems.join('; ')}`,
        );
        templates = loaded.set;
        cp = await startControlPlane();
        api = cp.api;
        logDir = join(cp.dir, 'logs');
        webhookTls = await loopbackServingPair(cp.pki.ca, cp.dir, 'webhook');
        injector = await startInjector(webhookTls);
        for (const object of await loadKustomization(repoPath('deploy/base'))) {
          const local =
            object.kind === 'MutatingWebhookConfiguration'
              ? withLocalClientConfig(object, injector.url, webhookTls.ca)
              : object;
          await api.apply(local);
        }
        await createNamespace('team-a', INJECTION_LABEL);
        await createNamespace('plain', {});
        // The CronJob controller creates its Job at the next minute: start the clock now.
        await api.create('/apis/batch/v1/namespaces/team-a/cronjobs', {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: { name: 'nightly' },
          spec: {
            schedule: '* * * * *',
            concurrencyPolicy: 'Forbid',
            jobTemplate: {
              spec: {
                backoffLimit: 0,
                template: jobPodTemplate({ app: 'nightly' }, { [INJECT]: 'log-shipper' }),
              },
            },
          },
        });
      },
      { timeout: 45 * 60_000 },
    );

    after(async () => {
      await stripper?.close();
      await (cp as ControlPlane | undefined)?.stop();
    });

    e2e('deploy/base is accepted as written, with strict field validation', async () => {
      const objects = await loadKustomization(repoPath('deploy/base'));
      const kinds = new Set(objects.map((o) => o.kind));
      for (const kind of [
        'Namespace',
        'ServiceAccount',
        'Role',
        'ClusterRole',
        'Deployment',
        'PodDisruptionBudget',
        'Service',
        'ConfigMap',
        'MutatingWebhookConfiguration',
      ]) {
        assert.ok(kinds.has(kind), `deploy/base has no ${kind}`);
      }
      for (const object of objects) await api.get(await api.objectPath(object));
      const stored = await api.get(
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidekick',
      );
      const webhooks = Array.isArray(stored.webhooks) ? stored.webhooks.filter(isObject) : [];
      assert.equal(webhooks.length, 1);
      const webhook = webhooks[0]!;
      assert.equal(webhook.name, WEBHOOK);
      assert.equal(webhook.failurePolicy, 'Fail');
      assert.equal(webhook.reinvocationPolicy, 'IfNeeded');
      assert.equal(webhook.sideEffects, 'None');
      assert.deepEqual(webhook.admissionReviewVersions, ['v1']);
      assert.ok(typeof webhook.timeoutSeconds === 'number' && webhook.timeoutSeconds <= 10);
      assert.ok(Array.isArray(webhook.matchConditions) && webhook.matchConditions.length === 1);
      // Its own Pods pass the restricted profile that its namespace enforces: the controllers
      // could create them (they stay Pending: there are no nodes).
      const servers = await waitFor(
        async () => {
          const found = await podsWithLabel(
            'sidekick',
            'app.kubernetes.io/component=webhook',
            'sidekick Pods',
          );
          return found.length === 2 ? found : undefined;
        },
        { timeoutMs: 60_000, what: 'the two replicas of Deployment sidekick' },
      );
      assert.equal(servers.length, 2);
      const [certsPod] = await podsWithLabel(
        'sidekick',
        'app.kubernetes.io/component=certs',
        'the certs Job Pod',
      );
      assert.ok(certsPod);
      assert.equal(specOf(certsPod).serviceAccountName, 'sidekick-certs');
    });

    e2e(
      'a Pod in a labeled namespace gets native sidecars in dependency order, before its init containers',
      async () => {
        const annotations = {
          [INJECT]: 'db-proxy, vault-agent',
          'sidekick.dev/db-proxy.instance': EXAMPLES['db-proxy.instance']!,
          'sidekick.dev/vault-agent.role': EXAMPLES['vault-agent.role']!,
          'sidekick.dev/vault-agent.secret': EXAMPLES['vault-agent.secret']!,
        };
        const input = pod({ name: 'web', annotations });
        const { object: stored } = await createPod('team-a', input);
        // db-proxy starts after vault-agent (SPEC 5), sidecars before the Pod's own init containers.
        assert.deepEqual(initContainerNames(stored), ['vault-agent', 'db-proxy', 'migrate']);
        assert.deepEqual(nativeSidecarNames(stored), ['vault-agent', 'db-proxy']);
        assert.deepEqual(statusSidecars(stored), ['vault-agent', 'db-proxy']);
        // What the apiserver stored is what the core renders offline (`sidekick inject`).
        const offline = injectPod(input, { templates, namespace: 'team-a', injectorNamespace: 'sidekick' });
        assert.equal(offline.decision, 'inject');
        const expected = initContainers(offline.pod);
        const got = initContainers(await api.get(`${podsPath('team-a')}/web`));
        assert.equal(got.length, expected.length);
        for (const [i, want] of expected.entries()) {
          for (const field of [
            'name',
            'image',
            'command',
            'args',
            'env',
            'restartPolicy',
            'ports',
          ] as const) {
            assert.deepEqual(got[i]?.[field], want[field], `initContainers[${String(i)}].${field}`);
          }
        }
      },
    );

    e2e('the same Pod in an unlabeled namespace is untouched', async () => {
      const annotations = {
        [INJECT]: 'log-shipper',
      };
      const { object: stored } = await createPod('plain', pod({ name: 'web', annotations }));
      assert.deepEqual(initContainerNames(stored), ['migrate']);
      assert.equal(statusSidecars(stored), undefined);
      assert.equal(annotationsOf(stored)[INJECT], 'log-shipper');
    });

    e2e('kube-system and the injector namespace are never touched, even when labeled', async () => {
      const label = async (namespace: string, value: string | null): Promise<void> => {
        await api.call('PATCH', `/api/v1/namespaces/${namespace}`, {
          body: { metadata: { labels: { 'sidekick.dev/injection': value } } },
          contentType: 'application/merge-patch+json',
        });
      };
      // A configuration without sidekick's namespace exclusions, to reach the server's own guard.
      const unguarded = await api.apply({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'sidekick-test-unguarded' },
        webhooks: [
          {
            name: 'unguarded.sidekick.dev',
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            clientConfig: { url: injector.url, caBundle: Buffer.from(webhookTls.ca).toString('base64') },
            rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
            namespaceSelector: {
              matchExpressions: [
                { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['kube-system'] },
              ],
            },
          },
        ],
      });
      try {
        for (const namespace of ['kube-system', 'sidekick']) await label(namespace, 'enabled');
        const annotations = { [INJECT]: 'log-shipper' };
        const system = await createPod('kube-system', pod({ name: 'web', annotations }));
        assert.deepEqual(initContainerNames(system.object), ['migrate']);
        assert.equal(statusSidecars(system.object), undefined);
        assert.ok(
          system.warnings.some((w) => w.includes('kube-system is never injected')),
          `warnings: ${JSON.stringify(system.warnings)}`,
        );
        const own = await createPod('sidekick', pod({ name: 'web', annotations }));
        assert.deepEqual(initContainerNames(own.object), ['migrate']);
      } finally {
        for (const namespace of ['kube-system', 'sidekick']) await label(namespace, null);
        await api.delete(await api.objectPath(unguarded));
      }
    });

    e2e('Deployment Pods (generateName only, made by kube-controller-manager) are injected', async () => {
      await api.create('/apis/apps/v1/namespaces/team-a/deployments', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'api' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'api' } },
          template: podTemplate(
            { app: 'api' },
            {
              [INJECT]: 'log-shipper, otel-collector',
              'sidekick.dev/otel-collector.endpoint': EXAMPLES['otel-collector.endpoint']!,
            },
          ),
        },
      });
      const pods = await waitFor(
        async () => {
          const found = await podsWithLabel('team-a', 'app=api', 'Pods of Deployment api');
          return found.length === 2 ? found : undefined;
        },
        { timeoutMs: 60_000, what: 'two Pods of Deployment api' },
      );
      for (const stored of pods) {
        const metadata = stored.metadata as JsonObject;
        assert.match(str(metadata.generateName), /^api-[a-z0-9]+-$/);
        assert.deepEqual(nativeSidecarNames(stored), ['log-shipper', 'otel-collector']);
        assert.deepEqual(initContainerNames(stored), ['log-shipper', 'otel-collector', 'migrate']);
      }
    });

    e2e('Job Pods are injected', async () => {
      await api.create('/apis/batch/v1/namespaces/team-a/jobs', {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'report' },
        spec: {
          backoffLimit: 0,
          template: jobPodTemplate({ app: 'report' }, { [INJECT]: 'log-shipper' }),
        },
      });
      const [stored] = await podsWithLabel('team-a', 'app=report', 'the Pod of Job report');
      assert.ok(stored);
      assert.match(str((stored.metadata as JsonObject).generateName), /^report-$/);
      assert.deepEqual(nativeSidecarNames(stored), ['log-shipper']);
    });

    e2e(
      "a CronJob's Job's Pods are injected",
      async () => {
        const [stored] = await podsWithLabel('team-a', 'app=nightly', 'the Pod of CronJob nightly');
        assert.ok(stored);
        assert.deepEqual(nativeSidecarNames(stored), ['log-shipper']);
        const owners = (stored.metadata as JsonObject).ownerReferences;
        const job = Array.isArray(owners) ? owners.filter(isObject).find((o) => o.kind === 'Job') : undefined;
        assert.ok(job, 'the Pod is owned by a Job');
        const jobObject = await api.get(`/apis/batch/v1/namespaces/team-a/jobs/${str(job.name)}`);
        const jobOwners = (jobObject.metadata as JsonObject).ownerReferences;
        assert.ok(
          Array.isArray(jobOwners) &&
            jobOwners.some((o) => isObject(o) && o.kind === 'CronJob' && o.name === 'nightly'),
          'the Job is owned by CronJob nightly',
        );
      },
      150_000,
    );

    e2e('every built-in template is admitted under the restricted Pod Security Standard', async () => {
      await createNamespace('restricted', {
        ...INJECTION_LABEL,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
      });
      // The namespace does enforce: a Pod without a restricted securityContext is refused.
      const loose = pod({ name: 'loose' });
      const looseSpec = specOf(loose);
      looseSpec.securityContext = {};
      looseSpec.containers = [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }];
      const refused = await rejection(createPod('restricted', loose));
      assert.equal(refused.status, 403);
      assert.match(refused.message, /violates PodSecurity "restricted/);

      const names = [...templates.templates.keys()].sort();
      assert.ok(names.length >= 5, `built-in templates: ${names.join(', ')}`);
      for (const name of names) {
        const annotations = annotationsFor(name, templates);
        const { object: stored } = await createPod('restricted', pod({ name, annotations }));
        assert.ok(
          nativeSidecarNames(stored).includes(name),
          `${name} injected: ${initContainerNames(stored).join(', ')}`,
        );
      }
      // Signal mode shares the process namespace: still restricted.
      const signal = await createPod(
        'restricted',
        pod({
          name: 'config-watcher-signal',
          annotations: {
            [INJECT]: 'config-watcher',
            'sidekick.dev/config-watcher.process': EXAMPLES['config-watcher.process']!,
          },
        }),
      );
      assert.equal(specOf(signal.object).shareProcessNamespace, true);
      assert.deepEqual(nativeSidecarNames(signal.object), ['config-watcher']);
      // And all of them at once.
      const all: Record<string, string> = {};
      for (const name of names) Object.assign(all, annotationsFor(name, templates));
      all[INJECT] = names.join(',');
      const together = await createPod('restricted', pod({ name: 'all', annotations: all }));
      assert.deepEqual([...nativeSidecarNames(together.object)].sort(), names);
    });

    e2e("refusals reach the user as the apiserver's error with sidekick's message", async () => {
      const unknown = await rejection(
        createPod('team-a', pod({ name: 'unknown', annotations: { [INJECT]: 'no-such-sidecar' } })),
      );
      assert.equal(unknown.status, 400);
      assert.match(unknown.message, new RegExp(`admission webhook "${WEBHOOK}" denied the request`));
      assert.match(unknown.message, /no-such-sidecar/);
      assert.match(unknown.message, /sidekick\.dev\/inject/);

      const missing = await rejection(
        createPod('team-a', pod({ name: 'missing', annotations: { [INJECT]: 'db-proxy' } })),
      );
      assert.equal(missing.status, 400);
      assert.match(missing.message, /sidekick\.dev\/db-proxy\.instance/);

      for (const name of ['unknown', 'missing']) {
        assert.equal((await api.request('GET', `${podsPath('team-a')}/${name}`)).status, 404);
      }
    });

    e2e('warnings reach the client', async () => {
      const { object: stored, warnings } = await createPod(
        'team-a',
        pod({
          name: 'typo',
          annotations: { [INJECT]: 'log-shipper', 'sidekick.dev/log-shipper.pth': '/logs' },
        }),
      );
      assert.deepEqual(nativeSidecarNames(stored), ['log-shipper']);
      assert.ok(
        warnings.some(
          (w) => w.includes('sidekick.dev/log-shipper.pth') && w.includes('sidekick.dev/log-shipper.path'),
        ),
        `warnings: ${JSON.stringify(warnings)}`,
      );
    });

    e2e('dryRun=All creates nothing and injects the same', async () => {
      const annotations = {
        [INJECT]: 'vault-agent,log-shipper',
        'sidekick.dev/vault-agent.role': EXAMPLES['vault-agent.role']!,
        'sidekick.dev/vault-agent.secret': EXAMPLES['vault-agent.secret']!,
      };
      const dry = await createPod('team-a', pod({ name: 'dry', annotations }), { dryRun: 'All' });
      assert.equal((await api.request('GET', `${podsPath('team-a')}/dry`)).status, 404);
      const wet = await createPod('team-a', pod({ name: 'wet', annotations }));
      assert.deepEqual(nativeSidecarNames(dry.object), ['vault-agent', 'log-shipper']);
      assert.deepEqual(
        withoutTokenMounts(initContainers(dry.object)),
        withoutTokenMounts(initContainers(wet.object)),
      );
      assert.deepEqual(
        withoutTokenMounts(containersOf(dry.object)),
        withoutTokenMounts(containersOf(wet.object)),
      );
      assert.equal(
        annotationsOf(dry.object)['sidekick.dev/status'],
        annotationsOf(wet.object)['sidekick.dev/status'],
      );
    });

    e2e(
      'a later webhook that strips restartPolicy: sidekick is reinvoked and the stored Pod is right',
      async () => {
        await createNamespace('team-strip', INJECTION_LABEL);
        const stripperTls = await loopbackServingPair(cp.pki.ca, cp.dir, 'stripper');
        stripper = await RestartPolicyStripper.start(stripperTls);
        // Configurations run in name order: this one after `sidekick`.
        const config = await api.apply({
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'MutatingWebhookConfiguration',
          metadata: { name: 'sidekick-test-strip-restart-policy' },
          webhooks: [
            {
              name: 'strip.test.sidekick.dev',
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              reinvocationPolicy: 'Never',
              clientConfig: { url: stripper.url, caBundle: Buffer.from(stripperTls.ca).toString('base64') },
              rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-strip' } },
            },
          ],
        });
        try {
          const annotations = {
            [INJECT]: 'log-shipper, vault-agent',
            'sidekick.dev/vault-agent.role': EXAMPLES['vault-agent.role']!,
            'sidekick.dev/vault-agent.secret': EXAMPLES['vault-agent.secret']!,
          };
          const { object: stored, warnings } = await createPod(
            'team-strip',
            pod({ name: 'web', annotations }),
          );
          assert.ok(
            stripper.removed >= 2,
            `the stripper removed ${String(stripper.removed)} restartPolicy fields`,
          );
          const reference = await createPod('team-a', pod({ name: 'strip-reference', annotations }));
          assert.deepEqual(initContainerNames(stored), initContainerNames(reference.object));
          assert.deepEqual(nativeSidecarNames(stored), ['log-shipper', 'vault-agent']);
          for (const name of ['log-shipper', 'vault-agent']) {
            assert.ok(
              warnings.some((w) => w.includes(`sidecar ${name} had lost restartPolicy`)),
              `warnings: ${JSON.stringify(warnings)}`,
            );
          }
        } finally {
          await api.delete(await api.objectPath(config));
        }
      },
    );

    e2e(
      'with the injector stopped, annotated Pods are refused (failurePolicy Fail), and admitted again when it is back',
      async () => {
        const port = injector.port;
        const exit = await injector.process.stop();
        assert.deepEqual(
          { code: exit.code, signal: exit.signal },
          { code: 0, signal: null },
          'SIGTERM: a clean exit',
        );
        const annotations = { [INJECT]: 'log-shipper' };
        const down = await rejection(createPod('team-a', pod({ name: 'while-down', annotations })));
        assert.match(down.message, new RegExp(`failed calling webhook "${WEBHOOK}"`));
        // matchConditions: a Pod that asks for nothing never reaches the webhook.
        const plainPod = await createPod('team-a', pod({ name: 'asks-for-nothing' }));
        assert.deepEqual(initContainerNames(plainPod.object), ['migrate']);

        injector = await startInjector(webhookTls, port);
        const back = await createPod('team-a', pod({ name: 'while-down', annotations }));
        assert.deepEqual(nativeSidecarNames(back.object), ['log-shipper']);
      },
    );

    e2e(
      "`sidekick certs` with the certs Job's account creates the Secret and caBundle, and the apiserver trusts it",
      async () => {
        const home = join(cp.dir, 'certs-home');
        await mkdir(home);
        const token = await api.create('/api/v1/namespaces/sidekick/serviceaccounts/sidekick-certs/token', {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 600 },
        });
        const status = token.object.status;
        assert.ok(isObject(status) && typeof status.token === 'string');
        const kubeconfig = join(home, 'certs.kubeconfig');
        await writeFile(
          kubeconfig,
          kubeconfigYaml(cp.server, cp.pki.ca.cert, { token: status.token }, 'sidekick'),
        );
        const args = ['certs', `--kubeconfig=${kubeconfig}`, '--ip-address=127.0.0.1'];

        const first = await sidekick(args, home);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /secret sidekick\/sidekick-tls: created/);
        const secret = await api.get('/api/v1/namespaces/sidekick/secrets/sidekick-tls');
        assert.equal(secret.type, 'kubernetes.io/tls');
        const data = secret.data as Record<string, string>;
        const [ca, cert, key] = ['ca.crt', 'tls.crt', 'tls.key'].map((k) =>
          Buffer.from(data[k] ?? '', 'base64').toString(),
        );
        assert.match(ca ?? '', /BEGIN CERTIFICATE/);
        const config = await api.get(
          '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidekick',
        );
        const webhook = (config.webhooks as JsonObject[])[0]!;
        assert.equal((webhook.clientConfig as JsonObject).caBundle, data['ca.crt']);
        assert.equal((webhook.clientConfig as JsonObject).url, injector.url, 'only the caBundle changed');

        const second = await sidekick(args, home);
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, /secret sidekick\/sidekick-tls: kept/);
        assert.match(second.stdout, /caBundle already set/);
        const again = await api.get('/api/v1/namespaces/sidekick/secrets/sidekick-tls');
        assert.equal(
          (again.metadata as JsonObject).resourceVersion,
          (secret.metadata as JsonObject).resourceVersion,
        );

        // Least privilege: the account cannot touch another webhook configuration.
        const other = await sidekick([...args, '--webhook=sidekick-test-other'], home);
        assert.equal(other.code, 1);
        assert.match(other.stderr, /403/);

        // The apiserver now trusts only the new CA: the old serving certificate is refused ...
        const distrusted = await rejection(
          createPod('team-a', pod({ name: 'old-cert', annotations: { [INJECT]: 'log-shipper' } })),
        );
        assert.match(distrusted.message, /x509|certificate/);
        // ... and the Secret's certificate is trusted.
        const secretDir = join(cp.dir, 'secret-tls');
        await mkdir(secretDir);
        const fromSecret: TlsPair = {
          certFile: join(secretDir, 'tls.crt'),
          keyFile: join(secretDir, 'tls.key'),
          ca: ca ?? '',
        };
        await writeFile(fromSecret.certFile, cert ?? '');
        await writeFile(fromSecret.keyFile, key ?? '', { mode: 0o600 });
        const port = injector.port;
        await injector.process.stop();
        injector = await startInjector(fromSecret, port);
        const trusted = await createPod(
          'team-a',
          pod({ name: 'new-cert', annotations: { [INJECT]: 'log-shipper' } }),
        );
        assert.deepEqual(nativeSidecarNames(trusted.object), ['log-shipper']);
      },
    );
  },
);
