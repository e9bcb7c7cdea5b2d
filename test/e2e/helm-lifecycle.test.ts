// helm install, upgrade and uninstall of the chart against a real apiserver (nothing else
// installed there): the install as the README gives it (--create-namespace), an upgrade to
// another image that must not fail on the certs Job's immutable Pod template, and an uninstall
// that leaves none of the chart's objects. No nodes: the Pods stay Pending.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isObject } from '../../src/json.js';
import { controlPlaneUnavailable } from './harness/binaries.js';
import { E2eEnvironment } from './harness/environment.js';
import { CHART, helm } from '../tools/tools.js';

const unavailable = controlPlaneUnavailable();
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');

void describe(
  'helm install, upgrade and uninstall on a real control plane',
  { skip: unavailable !== undefined && !inCi ? unavailable : false },
  () => {
    const env = new E2eEnvironment({ manifests: () => Promise.resolve([]) });
    const kube = (): string[] => ['--kubeconfig', env.cp.kubeconfigPath, '--namespace', 'sidekick'];
    const jobs = async (): Promise<string[]> => {
      const list = await env.api.get('/apis/batch/v1/namespaces/sidekick/jobs');
      return (Array.isArray(list.items) ? list.items : [])
        .filter(isObject)
        .map((job) => (isObject(job.metadata) ? (job.metadata.name as string) : '?'));
    };
    const deploymentImage = async (): Promise<unknown> => {
      const deployment = await env.api.get('/apis/apps/v1/namespaces/sidekick/deployments/sidekick');
      return JSON.stringify(deployment).match(/"image":"([^"]+)"/)?.[1];
    };
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

    void it('installs with --create-namespace, upgrades to another image, and uninstalls', async () => {
      helm(['install', 'sidekick', CHART, ...kube(), '--create-namespace']);
      const [first, ...others] = await jobs();
      assert.match(first ?? '', /^sidekick-certs-[0-9a-f]{8}$/);
      assert.deepEqual(others, []);
      assert.equal(await deploymentImage(), 'ghcr.io/sidekick-dev/sidekick:0.1.0');

      // The Job's Pod template changes with the image: a new Job, not a 422 on the old one.
      helm(['upgrade', 'sidekick', CHART, ...kube(), '--set', 'image.tag=0.1.1']);
      const upgraded = await jobs();
      assert.equal(upgraded.length, 1, upgraded.join(', '));
      assert.notEqual(upgraded[0], first);
      assert.equal(await deploymentImage(), 'ghcr.io/sidekick-dev/sidekick:0.1.1');
      // The same values again change nothing and fail nothing.
      helm(['upgrade', 'sidekick', CHART, ...kube(), '--set', 'image.tag=0.1.1']);
      assert.deepEqual(await jobs(), upgraded);

      helm(['uninstall', 'sidekick', ...kube(), '--wait']);
      await assert.rejects(
        env.api.get('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidekick'),
        /404|not ?found/i,
      );
      await assert.rejects(
        env.api.get('/apis/apps/v1/namespaces/sidekick/deployments/sidekick'),
        /404|not ?found/i,
      );
    });
  },
);
