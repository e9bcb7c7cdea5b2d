// deploy/base on the apiserver: every object accepted with strict field validation, the
// webhook configuration stored as written, and the injector's own Pods admitted as restricted.
import assert from 'node:assert/strict';
import { isObject, type JsonObject } from '../../../src/json.js';
import { WEBHOOK, type E2eEnvironment } from '../harness/environment.js';
import { loadKustomization } from '../harness/manifests.js';
import { specOf } from '../harness/objects.js';
import { repoPath } from '../../support/paths.js';

export interface Installation {
  /** What the tests call it: deploy/base, the Helm chart… */
  name: string;
  load: () => Promise<JsonObject[]>;
}

export const BASE: Installation = {
  name: 'deploy/base',
  load: () => loadKustomization(repoPath('deploy/base')),
};

export function deployCases(env: E2eEnvironment, installation: Installation = BASE): void {
  env.test(`${installation.name} is accepted as written, with strict field validation`, async () => {
    const objects = await installation.load();
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
      'ValidatingWebhookConfiguration',
    ]) {
      assert.ok(kinds.has(kind), `${installation.name} has no ${kind}`);
    }
    for (const object of objects) await env.api.get(await env.api.objectPath(object));
    const stored = await env.api.get(
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
    const servers = await env.podsWithLabel('sidekick', 'app.kubernetes.io/component=webhook', 2);
    assert.equal(servers.length, 2);
    const [certsPod] = await env.podsWithLabel('sidekick', 'app.kubernetes.io/component=certs');
    assert.ok(certsPod);
    assert.equal(specOf(certsPod).serviceAccountName, 'sidekick-certs');
  });
}
