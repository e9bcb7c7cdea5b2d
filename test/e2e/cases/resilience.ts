// Other webhooks and outages: reinvocation repairs what a later webhook broke; with the injector
// down, failurePolicy Fail refuses annotated Pods and matchConditions spares the others.
import assert from 'node:assert/strict';
import { example } from '../harness/examples.js';
import { INJECTION_LABEL, rejection, WEBHOOK, type E2eEnvironment } from '../harness/environment.js';
import { loopbackServingPair } from '../harness/injector.js';
import { podWebhookConfiguration } from '../harness/manifests.js';
import { INJECT, initContainerNames, nativeSidecarNames, pod } from '../harness/objects.js';
import { RestartPolicyStripper } from '../harness/stripper.js';

export function resilienceCases(env: E2eEnvironment): void {
  env.test(
    'a later webhook that strips restartPolicy: sidekick is reinvoked and the stored Pod is right',
    async () => {
      await env.createNamespace('team-strip', INJECTION_LABEL);
      const stripperTls = await loopbackServingPair(env.cp.pki.ca, env.cp.dir, 'stripper');
      const stripper = await RestartPolicyStripper.start(stripperTls);
      env.onTearDown(() => stripper.close());
      // Configurations run in name order: this one after `sidekick`.
      const config = await env.api.apply(
        podWebhookConfiguration(
          'sidekick-test-strip-restart-policy',
          'strip.test.sidekick.dev',
          { url: stripper.url, caPem: stripperTls.ca },
          {
            reinvocationPolicy: 'Never',
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-strip' } },
          },
        ),
      );
      try {
        const annotations = {
          [INJECT]: 'log-shipper, vault-agent',
          'sidekick.dev/vault-agent.role': example('vault-agent.role'),
          'sidekick.dev/vault-agent.secret': example('vault-agent.secret'),
        };
        const { object: stored, warnings } = await env.createPod(
          'team-strip',
          pod({ name: 'web', annotations }),
        );
        assert.ok(
          stripper.removed >= 2,
          `the stripper removed ${String(stripper.removed)} restartPolicy fields`,
        );
        const reference = await env.createPod('team-a', pod({ name: 'strip-reference', annotations }));
        assert.deepEqual(initContainerNames(stored), initContainerNames(reference.object));
        assert.deepEqual(nativeSidecarNames(stored), ['log-shipper', 'vault-agent']);
        for (const name of ['log-shipper', 'vault-agent']) {
          assert.ok(
            warnings.some((w) => w.includes(`sidecar ${name} had lost restartPolicy`)),
            `warnings: ${JSON.stringify(warnings)}`,
          );
        }
      } finally {
        await env.api.delete(await env.api.objectPath(config));
      }
    },
  );

  env.test(
    'with the injector stopped, annotated Pods are refused (failurePolicy Fail), and admitted again when it is back',
    async () => {
      const port = env.injector.port;
      const exit = await env.injector.process.stop();
      assert.deepEqual(
        { code: exit.code, signal: exit.signal },
        { code: 0, signal: null },
        'SIGTERM: a clean exit',
      );
      const annotations = { [INJECT]: 'log-shipper' };
      const down = await rejection(env.createPod('team-a', pod({ name: 'while-down', annotations })));
      assert.match(down.message, new RegExp(`failed calling webhook "${WEBHOOK}"`));
      // matchConditions: a Pod that asks for nothing never reaches the webhook.
      const plainPod = await env.createPod('team-a', pod({ name: 'asks-for-nothing' }));
      assert.deepEqual(initContainerNames(plainPod.object), ['migrate']);

      env.injector = await env.startInjector(env.webhookTls, port);
      const back = await env.createPod('team-a', pod({ name: 'while-down', annotations }));
      assert.deepEqual(nativeSidecarNames(back.object), ['log-shipper']);
    },
  );
}
