// Reinvocation repair on a running Pod: a later webhook strips restartPolicy from every init
// container (as webhooks that round-trip Pods through old typed models did); sidekick is
// reinvoked, restores it, and the Pod that runs has native sidecars: the app starts beside a
// sidecar that never exits, which a plain init container would block forever.
import assert from 'node:assert/strict';
import { loopbackServingPair } from '../../e2e/harness/injector.js';
import { podWebhookConfiguration } from '../../e2e/harness/manifests.js';
import { INJECT, nativeSidecarNames } from '../../e2e/harness/objects.js';
import { RestartPolicyStripper } from '../../e2e/harness/stripper.js';
import type { NodeEnvironment } from '../harness/environment.js';
import { allRunning, appContainer, nodePod, waitForPod } from '../harness/pods.js';

const NS = 'node-repair';

export function repairCases(env: NodeEnvironment): void {
  env.test(
    'a sidecar whose restartPolicy a later webhook stripped is repaired, and runs as a native sidecar',
    async () => {
      const { api, cp } = env.e2e;
      await env.restrictedNamespace(NS);
      const tls = await loopbackServingPair(cp.pki.ca, cp.dir, 'stripper');
      const stripper = await RestartPolicyStripper.start(tls);
      env.e2e.onTearDown(() => stripper.close());
      // Configurations run in name order: this one after `sidekick`.
      const config = await api.apply(
        podWebhookConfiguration(
          'sidekick-test-strip-restart-policy',
          'strip.test.sidekick.dev',
          { url: stripper.url, caPem: tls.ca },
          {
            reinvocationPolicy: 'Never',
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS } },
          },
        ),
      );
      try {
        const input = nodePod({
          name: 'repaired',
          annotations: { [INJECT]: 'log-shipper' },
          spec: {
            containers: [appContainer('app', ['/bin/app', '--check=http://127.0.0.1:2020/api/v2/health'])],
          },
        });
        const { object: stored, warnings } = await env.e2e.createPod(NS, input);
        assert.ok(
          stripper.removed >= 1,
          `the stripper removed ${String(stripper.removed)} restartPolicy fields`,
        );
        assert.deepEqual(nativeSidecarNames(stored), ['log-shipper']);
        assert.ok(
          warnings.some((w) => w.includes('sidecar log-shipper had lost restartPolicy')),
          `warnings: ${JSON.stringify(warnings)}`,
        );
        await waitForPod(api, NS, 'repaired', 'running with its sidecar beside the app', (pod) =>
          allRunning(pod, ['log-shipper', 'app']),
        );
      } finally {
        await api.delete(await api.objectPath(config));
      }
    },
  );
}
