// An upgrade on a real control plane: the previous version's deploy/base (a committed rendering,
// test/e2e/fixtures/deploy-base-previous.yaml, so that a shallow clone has it too) applied with
// server-side apply and set up by its own `sidekick certs`, then the current deploy/base applied
// over it the same way, while Pods are created the whole time: none may fail. The webhook
// configurations are applied as a GitOps tool applies them, without a caBundle: the one
// `sidekick certs` patched in must survive the apply. The server is the current `sidekick serve`
// throughout (only the manifests have two versions here), reading the Secret through a
// kubelet-style mount stand-in.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { FIELD_MANAGER } from '../../src/certs/cluster.js';
import { isObject, type JsonObject } from '../../src/json.js';
import { repoPath } from '../support/paths.js';
import { controlPlaneUnavailable } from './harness/binaries.js';
import { runSidekick } from './harness/cli.js';
import { E2eEnvironment, INJECTION_LABEL } from './harness/environment.js';
import { loadKustomization, loadManifest, withLocalServices } from './harness/manifests.js';
import { at, str } from './harness/objects.js';
import { createPodsContinuously } from './harness/pod-load.js';
import { SecretMountStandIn } from './harness/secret-mount.js';

const unavailable = controlPlaneUnavailable();
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');
const PREVIOUS = repoPath('test/e2e/fixtures/deploy-base-previous.yaml');
const SECRET = '/api/v1/namespaces/sidekick/secrets/sidekick-tls';
const JOB = '/apis/batch/v1/namespaces/sidekick/jobs/sidekick-certs';
const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidekick';
const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/sidekick-workloads';
/** The field manager of `kubectl apply --server-side` (and of Argo CD / Flux with SSA). */
const MANAGER = 'kubectl';

async function applyAll(env: E2eEnvironment, objects: JsonObject[], origin: string): Promise<void> {
  for (const object of objects) {
    const local =
      object.kind === 'MutatingWebhookConfiguration' || object.kind === 'ValidatingWebhookConfiguration'
        ? withLocalServices(object, origin)
        : object;
    await env.api.apply(local, MANAGER);
  }
}

async function caBundles(env: E2eEnvironment): Promise<string[]> {
  const bundles: string[] = [];
  for (const path of [MUTATING, VALIDATING]) {
    const config = await env.api.get(path);
    for (const webhook of Array.isArray(config.webhooks) ? config.webhooks.filter(isObject) : []) {
      bundles.push(str(at(webhook, 'clientConfig', 'caBundle')));
    }
  }
  return bundles;
}

void describe(
  'upgrading from the previous deploy/base to the current one',
  { skip: unavailable !== undefined && !inCi ? unavailable : false },
  () => {
    const env = new E2eEnvironment({ manifests: () => loadManifest(PREVIOUS) });

    before(
      async () => {
        if (unavailable !== undefined)
          throw new Error(`${unavailable}. CI is set, so this fails instead of skipping.`);
        await env.setUp();
      },
      { timeout: 45 * 60_000 },
    );

    after(async () => {
      await env.tearDown();
    });

    env.test(
      'applies over the previous version while Pods are created: none fails, the caBundle survives',
      async () => {
        const previous = await loadManifest(PREVIOUS);
        const current = await loadKustomization(repoPath('deploy/base'));
        assert.ok(previous.some((o) => o.kind === 'Job') && !previous.some((o) => o.kind === 'CronJob'));
        assert.ok(
          current.some((o) => o.kind === 'CronJob'),
          'the current version adds the certs CronJob',
        );

        // The previous version as installed: its manifests, then its certs Job's run.
        const origin = env.injector.origin;
        await applyAll(env, previous, origin);
        const home = join(env.cp.dir, 'upgrade-home');
        await mkdir(home);
        const kubeconfig = join(home, 'certs.kubeconfig');
        await env.serviceAccountKubeconfig('sidekick', 'sidekick-certs', kubeconfig);
        const certs = (): ReturnType<typeof runSidekick> =>
          runSidekick(['certs', `--kubeconfig=${kubeconfig}`, '--ip-address=127.0.0.1'], home);
        const installed = await certs();
        assert.equal(installed.code, 0, installed.stderr);
        assert.match(installed.stdout, /: created/);
        // The server serves the Secret, through a mount stand-in, on the registered port.
        const mount = await SecretMountStandIn.start(env.api, SECRET, join(env.cp.dir, 'upgrade-tls'), 2_000);
        env.onTearDown(() => mount.stop());
        const ca = Buffer.from(str(at(await env.api.get(SECRET), 'data', 'ca.crt')), 'base64').toString();
        const port = env.injector.port;
        await env.injector.process.stop();
        env.injector = await env.startInjector(
          { certFile: join(mount.dir, 'tls.crt'), keyFile: join(mount.dir, 'tls.key'), ca },
          port,
        );
        await env.createNamespace('upgrade', INJECTION_LABEL);
        const bundlesBefore = await caBundles(env);
        assert.ok(bundlesBefore.every((b) => b === bundlesBefore[0] && b.length > 0));

        const load = createPodsContinuously(env, 'upgrade', 'pod');
        let afterUpgrade = 0;
        try {
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          const beforeUpgrade = load.created;
          // As docs/upgrading.md says: a Job's Pod template is immutable, so the old one goes first.
          await env.api.call('DELETE', JOB, { query: { propagationPolicy: 'Background' } });
          await applyAll(env, current, origin);
          // The current version's certs Job (and CronJob) run: nothing to do.
          const rerun = await certs();
          assert.equal(rerun.code, 0, rerun.stderr);
          assert.match(rerun.stdout, /: kept, phase stable/);
          assert.match(rerun.stdout, /mutatingwebhookconfiguration sidekick: caBundle already set/);
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          afterUpgrade = load.created - beforeUpgrade;
        } finally {
          await load.stop();
        }
        const figures = {
          created: load.created,
          failed: load.failed.length,
          createdAfterUpgradeStarted: afterUpgrade,
        };
        process.stdout.write(`upgrade figures: ${JSON.stringify(figures)}\n`);
        assert.deepEqual(load.failed, [], 'no Pod creation failed');
        assert.ok(afterUpgrade > 0);
        assert.deepEqual(
          await caBundles(env),
          bundlesBefore,
          'the apply kept the caBundle sidekick certs set',
        );
        await env.api.get('/apis/batch/v1/namespaces/sidekick/cronjobs/sidekick-certs');
        // Server-side apply records who owns what: the caBundle is not the applier's (docs/upgrading.md).
        const config = await env.api.get(MUTATING);
        const managers = Array.isArray(at(config, 'metadata', 'managedFields'))
          ? (at(config, 'metadata', 'managedFields') as JsonObject[])
          : [];
        const owning = managers
          .filter((m) => JSON.stringify(m.fieldsV1).includes('caBundle'))
          .map((m) => m.manager);
        assert.deepEqual(owning, [FIELD_MANAGER], "the caBundle is sidekick certs' alone");
        assert.ok(managers.some((m) => m.manager === MANAGER && m.operation === 'Apply'));
      },
      5 * 60_000,
    );
  },
);
