// Optional hardening: `sidekick serve --client-ca` admits only callers with a client certificate
// from that CA. The apiserver presents one through its AdmissionConfiguration's kubeconfig (set up
// in harness/webhook-client.ts); a caller without one, or with one from another CA, is refused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isObject, type JsonObject } from '../../../src/json.js';
import { rejection, type E2eEnvironment } from '../harness/environment.js';
import type { Injector } from '../harness/injector.js';
import { loadKustomization, withLocalClientConfig } from '../harness/manifests.js';
import { INJECT, nativeSidecarNames, pod } from '../harness/objects.js';
import { admissionReview } from '../../support/admission-review.js';
import { JSON_HEADERS, send, type HttpResult } from '../../support/https-request.js';
import { repoPath } from '../../support/paths.js';

const NAMESPACE = 'team-mtls';

function call(
  injector: Injector,
  path: string,
  body: string | undefined,
  client?: { cert: string; key: string },
): Promise<HttpResult> {
  const ca = injector.tls.ca;
  return body === undefined
    ? send(injector.port, { ca, method: 'GET', path })
    : send(injector.port, { ca, path, headers: JSON_HEADERS, body, client });
}

function review(uid: string): string {
  const object = pod({ name: 'direct', annotations: { [INJECT]: 'log-shipper' } });
  return JSON.stringify(
    admissionReview(uid, object, { namespace: NAMESPACE, userInfo: { username: 'e2e' } }),
  );
}

/** deploy/base's webhook configuration, renamed, for one namespace, calling `url`. */
async function webhookConfiguration(env: E2eEnvironment, name: string, url: string): Promise<JsonObject> {
  const base = (await loadKustomization(repoPath('deploy/base'))).find(
    (object) => object.kind === 'MutatingWebhookConfiguration',
  );
  assert.ok(base, 'deploy/base has a MutatingWebhookConfiguration');
  const config = withLocalClientConfig(base, url, env.webhookTls.ca);
  config.metadata = { name };
  for (const webhook of Array.isArray(config.webhooks) ? config.webhooks : []) {
    assert.ok(isObject(webhook));
    webhook.namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACE } };
  }
  return config;
}

export function mtlsCases(env: E2eEnvironment): void {
  env.test(
    'with --client-ca, /mutate answers only a client certificate from that CA, which the apiserver presents',
    async () => {
      const auth = env.webhookClient;
      const injector = await env.startInjector(env.webhookTls, auth.port, auth.caFile);
      try {
        // Probes need no certificate (kubelet has none).
        assert.equal((await call(injector, '/readyz', undefined)).status, 200);
        assert.equal((await call(injector, '/healthz', undefined)).status, 200);

        const without = await call(injector, '/mutate', review(randomUUID()));
        assert.equal(without.status, 401, without.body);
        assert.match(without.body, /a client certificate issued by the configured client CA is required/);
        // The cluster admin's certificate is valid, but not from the webhook's client CA.
        const otherCa = await call(injector, '/mutate', review(randomUUID()), env.cp.pki.admin);
        assert.equal(otherCa.status, 401, otherCa.body);
        const uid = randomUUID();
        const withCert = await call(injector, '/mutate', review(uid), { cert: auth.cert, key: auth.key });
        assert.equal(withCert.status, 200, withCert.body);
        const answer: unknown = JSON.parse(withCert.body);
        assert.ok(isObject(answer) && isObject(answer.response));
        assert.equal(answer.response.uid, uid);
        assert.equal(answer.response.allowed, true);

        await env.createNamespace(NAMESPACE, {});
        const annotations = { [INJECT]: 'log-shipper' };
        // The kubeconfig names 127.0.0.1:PORT: the apiserver presents its client certificate.
        const presented = await env.api.apply(
          await webhookConfiguration(
            env,
            'sidekick-test-mtls',
            `https://127.0.0.1:${String(auth.port)}/mutate`,
          ),
        );
        try {
          const { object: stored } = await env.createPod(NAMESPACE, pod({ name: 'mtls', annotations }));
          assert.deepEqual(nativeSidecarNames(stored), ['log-shipper']);
        } finally {
          await env.api.delete(await env.api.objectPath(presented));
        }
        // The same server called as localhost:PORT, a host the kubeconfig does not name: no
        // certificate, and failurePolicy Fail refuses the Pod with sidekick's reason.
        const anonymous = await env.api.apply(
          await webhookConfiguration(
            env,
            'sidekick-test-mtls-anonymous',
            `https://localhost:${String(auth.port)}/mutate`,
          ),
        );
        try {
          const refused = await rejection(env.createPod(NAMESPACE, pod({ name: 'anonymous', annotations })));
          assert.match(refused.message, /failed calling webhook "inject\.sidekick\.dev"/);
          assert.match(
            refused.message,
            /a client certificate issued by the configured client CA is required/,
          );
        } finally {
          await env.api.delete(await env.api.objectPath(anonymous));
        }
      } finally {
        await injector.process.stop();
      }
    },
  );
}
