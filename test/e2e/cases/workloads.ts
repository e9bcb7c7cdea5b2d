// Pods that kube-controller-manager creates (generateName only) from Deployments, Jobs and
// CronJobs.
import assert from 'node:assert/strict';
import { isObject } from '../../../src/json.js';
import { example } from '../harness/examples.js';
import type { E2eEnvironment } from '../harness/environment.js';
import {
  INJECT,
  initContainerNames,
  jobPodTemplate,
  nativeSidecarNames,
  podTemplate,
  str,
  at,
  objectAt,
} from '../harness/objects.js';

/** Created before the other cases run: its Job appears at the next full minute. */
export async function startNightlyCronJob(env: E2eEnvironment): Promise<void> {
  await env.api.create('/apis/batch/v1/namespaces/team-a/cronjobs', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly' },
    spec: {
      schedule: '* * * * *',
      // No kubelet runs the first Job's Pod: Forbid keeps it the only one.
      concurrencyPolicy: 'Forbid',
      jobTemplate: {
        spec: { backoffLimit: 0, template: jobPodTemplate({ app: 'nightly' }, { [INJECT]: 'log-shipper' }) },
      },
    },
  });
}

export function workloadCases(env: E2eEnvironment): void {
  env.test('Deployment Pods (generateName only, made by kube-controller-manager) are injected', async () => {
    await env.api.create('/apis/apps/v1/namespaces/team-a/deployments', {
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
            'sidekick.dev/otel-collector.endpoint': example('otel-collector.endpoint'),
          },
        ),
      },
    });
    const pods = await env.podsWithLabel('team-a', 'app=api', 2);
    for (const stored of pods) {
      const metadata = objectAt(stored, 'metadata');
      assert.match(str(metadata.generateName), /^api-[a-z0-9]+-$/);
      assert.deepEqual(nativeSidecarNames(stored), ['log-shipper', 'otel-collector']);
      assert.deepEqual(initContainerNames(stored), ['log-shipper', 'otel-collector', 'migrate']);
    }
  });

  env.test('Job Pods are injected', async () => {
    await env.api.create('/apis/batch/v1/namespaces/team-a/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'report' },
      spec: {
        backoffLimit: 0,
        template: jobPodTemplate({ app: 'report' }, { [INJECT]: 'log-shipper' }),
      },
    });
    const [stored] = await env.podsWithLabel('team-a', 'app=report');
    assert.ok(stored);
    assert.match(str(at(stored, 'metadata', 'generateName')), /^report-$/);
    assert.deepEqual(nativeSidecarNames(stored), ['log-shipper']);
  });

  env.test(
    "a CronJob's Job's Pods are injected",
    async () => {
      const [stored] = await env.podsWithLabel('team-a', 'app=nightly', 1, 140_000);
      assert.ok(stored);
      assert.deepEqual(nativeSidecarNames(stored), ['log-shipper']);
      const owners = at(stored, 'metadata', 'ownerReferences');
      const job = Array.isArray(owners) ? owners.filter(isObject).find((o) => o.kind === 'Job') : undefined;
      assert.ok(job, 'the Pod is owned by a Job');
      const jobObject = await env.api.get(`/apis/batch/v1/namespaces/team-a/jobs/${str(job.name)}`);
      const jobOwners = at(jobObject, 'metadata', 'ownerReferences');
      assert.ok(
        Array.isArray(jobOwners) &&
          jobOwners.some((o) => isObject(o) && o.kind === 'CronJob' && o.name === 'nightly'),
        'the Job is owned by CronJob nightly',
      );
    },
    150_000,
  );
}
