// The renderings whose certificates sidekick does not issue itself, installed on a real control
// plane with strict field validation, and the webhook serving Pods through each:
// - certificates by cert-manager: deploy/overlays/cert-manager (kustomize) and the Helm chart with
//   certificates.mode=cert-manager. cert-manager's own CRDs (from its Go module, test/tools) are
//   installed first, so the apiserver validates the Certificates and Issuers against cert-manager's
//   schema; no cert-manager controller runs here, so a stand-in (harness/cert-manager-stand-in.ts)
//   writes the Secret its certificate controller would and the caBundle its CA injector would;
// - certificates.mode=provided: a Secret and CA of the user's (issued here by `sidekick certs`),
//   the CA given to the chart as a value, which must reach the apiserver as the caBundle unchanged.
// In each, the server is the real `sidekick serve` on the Secret the rendering's Deployment mounts
// (through a kubelet-style mount stand-in), reached by the apiserver on loopback.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { isObject, type JsonObject } from '../../src/json.js';
import { repoPath } from '../support/paths.js';
import { injectionCases } from './cases/injection.js';
import { controlPlaneUnavailable } from './harness/binaries.js';
import {
  INJECT_CA_FROM,
  injectCa,
  issueCertificate,
  issueTlsSecret,
  secretPath,
} from './harness/cert-manager-stand-in.js';
import { E2eEnvironment, INJECTION_LABEL, rejection } from './harness/environment.js';
import { CHART_NAMESPACE, loadKustomization, withLocalServices } from './harness/manifests.js';
import { at, str } from './harness/objects.js';
import { SecretMountStandIn } from './harness/secret-mount.js';
import { waitFor } from './harness/wait.js';
import { CERT_MANAGER_VERSION, certManagerCrds, helmTemplate } from '../tools/tools.js';

const unavailable = controlPlaneUnavailable();
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');
const NS = 'sidekick';
const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidekick';
const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/sidekick-workloads';
const PROVIDED_SECRET = 'sidekick-provided-tls';

interface Rendering {
  name: string;
  mode: 'cert-manager' | 'provided';
  /** The objects to apply; `ca` is the provided CA (PEM) for mode provided. */
  load: (ca: string) => Promise<JsonObject[]>;
}

const RENDERINGS: Rendering[] = [
  {
    name: 'deploy/overlays/cert-manager',
    mode: 'cert-manager',
    load: () => loadKustomization(repoPath('deploy/overlays/cert-manager')),
  },
  {
    name: 'the Helm chart with certificates.mode=cert-manager',
    mode: 'cert-manager',
    load: () =>
      Promise.resolve([CHART_NAMESPACE, ...helmTemplate(['--set', 'certificates.mode=cert-manager'])]),
  },
  {
    name: 'the Helm chart with certificates.mode=provided',
    mode: 'provided',
    load: (ca) =>
      Promise.resolve([
        CHART_NAMESPACE,
        ...helmTemplate([
          '--set',
          'certificates.mode=provided',
          '--set',
          `certificates.provided.secretName=${PROVIDED_SECRET}`,
          '--set-string',
          `certificates.provided.caBundle=${ca}`,
        ]),
      ]),
  },
];

async function caBundles(env: E2eEnvironment): Promise<string[]> {
  const bundles: string[] = [];
  for (const path of [MUTATING, VALIDATING]) {
    const config = await env.api.get(path);
    for (const webhook of Array.isArray(config.webhooks) ? config.webhooks.filter(isObject) : [])
      bundles.push(
        isObject(webhook.clientConfig) && typeof webhook.clientConfig.caBundle === 'string'
          ? webhook.clientConfig.caBundle
          : '',
      );
  }
  return bundles;
}

/** The TLS Secret the stored webhook Deployment mounts. */
async function mountedSecret(env: E2eEnvironment): Promise<string> {
  const deployment = await env.api.get(`/apis/apps/v1/namespaces/${NS}/deployments/sidekick`);
  const volumes = at(deployment, 'spec', 'template', 'spec', 'volumes');
  const tls = Array.isArray(volumes) ? volumes.filter(isObject).find((v) => v.name === 'tls') : undefined;
  return str(at(tls, 'secret', 'secretName'));
}

for (const rendering of RENDERINGS) {
  void describe(
    `${rendering.name} on a real control plane`,
    { skip: unavailable !== undefined && !inCi ? unavailable : false },
    () => {
      // Nothing installed by the harness: the test applies the rendering as a user would.
      const env = new E2eEnvironment({ manifests: () => Promise.resolve([]) });
      before(
        async () => {
          if (unavailable !== undefined)
            throw new Error(`${unavailable}. CI is set, so this fails instead of skipping.`);
          await env.setUp();
          await env.createNamespace('team-a', INJECTION_LABEL);
          await env.createNamespace('plain', {});
        },
        { timeout: 45 * 60_000 },
      );
      after(async () => {
        await env.tearDown();
      });

      env.test(`${rendering.name} is accepted as written, with strict field validation`, async () => {
        let ca = '';
        if (rendering.mode === 'cert-manager') {
          for (const crd of certManagerCrds()) await env.api.apply(crd);
          await waitFor(
            async () => {
              const crd = await env.api.get(
                '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/certificates.cert-manager.io',
              );
              const conditions = at(crd, 'status', 'conditions');
              return Array.isArray(conditions) &&
                conditions.some((c) => isObject(c) && c.type === 'Established' && c.status === 'True')
                ? true
                : undefined;
            },
            { timeoutMs: 30_000, what: `cert-manager ${CERT_MANAGER_VERSION}'s Certificate CRD established` },
          );
        } else {
          // The user's own Secret and CA, in the namespace created first.
          await env.api.apply(CHART_NAMESPACE);
          ca = await issueTlsSecret(env, NS, PROVIDED_SECRET, ['sidekick.sidekick.svc']);
        }
        const objects = await rendering.load(ca);
        const kinds = objects.map((o) => (typeof o.kind === 'string' ? o.kind : '?'));
        if (rendering.mode === 'cert-manager') {
          assert.deepEqual(kinds.filter((k) => k === 'Certificate' || k === 'Issuer').sort(), [
            'Certificate',
            'Certificate',
            'Issuer',
            'Issuer',
          ]);
        } else {
          assert.ok(!kinds.includes('Certificate') && !kinds.includes('Issuer'));
        }
        assert.ok(!kinds.includes('Job') && !kinds.includes('CronJob'), 'no certs Job or CronJob');
        for (const object of objects) {
          const webhooks =
            object.kind === 'MutatingWebhookConfiguration' ||
            object.kind === 'ValidatingWebhookConfiguration';
          // As GitOps applies it: the rendering's own caBundle (provided) or none (cert-manager).
          await env.api.apply(webhooks ? withLocalServices(object, env.injector.origin) : object);
        }
        for (const object of objects) await env.api.get(await env.api.objectPath(object));
        if (rendering.mode === 'cert-manager') {
          const config = await env.api.get(MUTATING);
          assert.equal(at(config, 'metadata', 'annotations', INJECT_CA_FROM), `${NS}/sidekick-serving`);
          // cert-manager's schema is in force: a field it does not know is refused.
          const serving = objects.find(
            (o) => o.kind === 'Certificate' && at(o, 'metadata', 'name') === 'sidekick-serving',
          );
          assert.ok(serving);
          const wrong = structuredClone(serving);
          (wrong.metadata as JsonObject).name = 'sidekick-serving-misspelt';
          (wrong.spec as JsonObject).dnsName = 'sidekick.sidekick.svc';
          const refused = await rejection(
            env.api.create(`/apis/cert-manager.io/v1/namespaces/${NS}/certificates`, wrong),
          );
          assert.match(refused.message, /unknown field "spec.dnsName"/);
        }
      });

      const what =
        rendering.mode === 'cert-manager'
          ? "the cert-manager stand-in writes the serving Secret and its CA injector's caBundle"
          : 'the provided CA is every webhook’s caBundle as given';
      env.test(what, async () => {
        let ca: string;
        if (rendering.mode === 'cert-manager') {
          // Nothing has set a caBundle yet: the stand-in's injection below is what makes it work.
          const before = await caBundles(env);
          assert.ok(before.length >= 2 && before.every((b) => b === ''), JSON.stringify(before));
          ca = await issueCertificate(env, NS, 'sidekick-serving');
          assert.deepEqual(await injectCa(env), ['sidekick', 'sidekick-workloads']);
        } else {
          ca = Buffer.from(
            str(at(await env.api.get(secretPath(NS, PROVIDED_SECRET)), 'data', 'ca.crt')),
            'base64',
          ).toString();
        }
        const bundles = await caBundles(env);
        assert.ok(bundles.length >= 2);
        for (const bundle of bundles) assert.equal(Buffer.from(bundle, 'base64').toString(), ca);
        // The server on the Secret the Deployment mounts, on the port the configurations name.
        const secret = await mountedSecret(env);
        assert.equal(secret, rendering.mode === 'cert-manager' ? 'sidekick-tls' : PROVIDED_SECRET);
        const mount = await SecretMountStandIn.start(
          env.api,
          secretPath(NS, secret),
          join(env.cp.dir, 'tls-mount'),
          1_000,
        );
        env.onTearDown(() => mount.stop());
        const port = env.injector.port;
        await env.injector.process.stop();
        // What the injector now serves with (cases of their own, too, register it by this CA).
        env.webhookTls = { certFile: join(mount.dir, 'tls.crt'), keyFile: join(mount.dir, 'tls.key'), ca };
        env.injector = await env.startInjector(env.webhookTls, port);
      });

      injectionCases(env);
    },
  );
}
