// Which Pods get sidecars: labeled namespaces yes, in the right order and as the core renders
// them; unlabeled namespaces, kube-system and the injector's own namespace never.
import assert from 'node:assert/strict';
import { isObject } from '../../../src/json.js';
import { injectPod } from '../../../src/inject/index.js';
import { parseSamples, sumOf } from '../../support/metrics-text.js';
import { example } from '../harness/examples.js';
import { podsPath, WEBHOOK, type E2eEnvironment } from '../harness/environment.js';
import { podWebhookConfiguration } from '../harness/manifests.js';
import {
  annotationsOf,
  INJECT,
  initContainerNames,
  initContainers,
  nativeSidecarNames,
  pod,
  statusSidecars,
} from '../harness/objects.js';

export function injectionCases(env: E2eEnvironment): void {
  env.test(
    'a Pod in a labeled namespace gets native sidecars in dependency order, before its init containers',
    async () => {
      const annotations = {
        [INJECT]: 'db-proxy, vault-agent',
        'sidekick.dev/db-proxy.instance': example('db-proxy.instance'),
        'sidekick.dev/vault-agent.role': example('vault-agent.role'),
        'sidekick.dev/vault-agent.secret': example('vault-agent.secret'),
      };
      const input = pod({ name: 'web', annotations });
      const calls = async (): Promise<number> => {
        const response = await env.api.request('GET', '/metrics');
        assert.equal(response.status, 200);
        const samples = parseSamples(
          typeof response.body === 'string' ? response.body : '',
          'apiserver_admission_webhook_admission_duration',
        );
        return sumOf(samples, 'apiserver_admission_webhook_admission_duration_seconds_count', {
          name: WEBHOOK,
          type: 'admit',
          operation: 'CREATE',
        });
      };
      const before = await calls();
      const { object: stored, warnings } = await env.createPod('team-a', input);
      // The apiserver's ServiceAccount admission runs again after sidekick's patch; sidekick's
      // answer already mounts the token into the sidecars as that admission would, so the object
      // is unchanged by it, and the apiserver does not call sidekick a second time (IfNeeded).
      assert.equal((await calls()) - before, 1, 'the apiserver called sidekick once for the Pod');
      assert.deepEqual(
        warnings.filter((w) => w.includes('restored')),
        [],
        'no repair on a Pod nobody damaged',
      );
      for (const sidecar of initContainers(stored).filter((c) => c.restartPolicy === 'Always')) {
        const mounts = Array.isArray(sidecar.volumeMounts) ? sidecar.volumeMounts : [];
        assert.ok(
          mounts.some((m) => isObject(m) && m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'),
          `sidecar ${JSON.stringify(sidecar.name)} has the ServiceAccount token (vault-agent logs in with it)`,
        );
      }
      // db-proxy starts after vault-agent (SPEC 5), sidecars before the Pod's own init containers.
      assert.deepEqual(initContainerNames(stored), ['vault-agent', 'db-proxy', 'migrate']);
      assert.deepEqual(nativeSidecarNames(stored), ['vault-agent', 'db-proxy']);
      assert.deepEqual(statusSidecars(stored), ['vault-agent', 'db-proxy']);
      // What the apiserver stored is what the core renders offline (`sidekick inject`).
      const offline = injectPod(input, {
        templates: env.templates,
        namespace: 'team-a',
        injectorNamespace: 'sidekick',
      });
      assert.equal(offline.decision, 'inject');
      const expected = initContainers(offline.pod);
      const got = initContainers(await env.api.get(`${podsPath('team-a')}/web`));
      assert.equal(got.length, expected.length);
      for (const [i, want] of expected.entries()) {
        for (const field of ['name', 'image', 'command', 'args', 'env', 'restartPolicy', 'ports'] as const) {
          assert.deepEqual(got[i]?.[field], want[field], `initContainers[${String(i)}].${field}`);
        }
      }
    },
  );

  env.test('the same Pod in an unlabeled namespace is untouched', async () => {
    const annotations = {
      [INJECT]: 'log-shipper',
    };
    const { object: stored } = await env.createPod('plain', pod({ name: 'web', annotations }));
    assert.deepEqual(initContainerNames(stored), ['migrate']);
    assert.equal(statusSidecars(stored), undefined);
    assert.equal(annotationsOf(stored)[INJECT], 'log-shipper');
  });

  env.test('kube-system and the injector namespace are never touched, even when labeled', async () => {
    const label = async (namespace: string, value: string | null): Promise<void> => {
      await env.api.call('PATCH', `/api/v1/namespaces/${namespace}`, {
        body: { metadata: { labels: { 'sidekick.dev/injection': value } } },
        contentType: 'application/merge-patch+json',
      });
    };
    // A configuration without sidekick's namespace exclusions, to reach the server's own guard.
    const unguarded = await env.api.apply(
      podWebhookConfiguration(
        'sidekick-test-unguarded',
        'unguarded.sidekick.dev',
        { url: env.injector.url, caPem: env.webhookTls.ca },
        {
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['kube-system'] },
            ],
          },
        },
      ),
    );
    try {
      for (const namespace of ['kube-system', 'sidekick']) await label(namespace, 'enabled');
      const annotations = { [INJECT]: 'log-shipper' };
      const system = await env.createPod('kube-system', pod({ name: 'web', annotations }));
      assert.deepEqual(initContainerNames(system.object), ['migrate']);
      assert.equal(statusSidecars(system.object), undefined);
      assert.ok(
        system.warnings.some((w) => w.includes('kube-system is never injected')),
        `warnings: ${JSON.stringify(system.warnings)}`,
      );
      const own = await env.createPod('sidekick', pod({ name: 'web', annotations }));
      assert.deepEqual(initContainerNames(own.object), ['migrate']);
    } finally {
      for (const namespace of ['kube-system', 'sidekick']) await label(namespace, null);
      await env.api.delete(await env.api.objectPath(unguarded));
    }
  });
}
