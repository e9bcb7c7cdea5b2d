// The Helm chart's default rendering installed on a real control plane, as the README says to
// install it (the namespace created and labelled first, then the chart's objects), with strict
// field validation, and the webhook working through it: the same cases as deploy/base.
import { after, before, describe } from 'node:test';
import type { JsonObject } from '../../src/json.js';
import { deployCases, type Installation } from './cases/deploy.js';
import { injectionCases } from './cases/injection.js';
import { controlPlaneUnavailable } from './harness/binaries.js';
import { E2eEnvironment, INJECTION_LABEL } from './harness/environment.js';
import { helmTemplate } from '../tools/tools.js';

/** `kubectl create namespace sidekick` and its Pod Security labels, as the chart's README says. */
const NAMESPACE: JsonObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: 'sidekick',
    labels: {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    },
  },
};

const CHART: Installation = {
  name: 'the Helm chart (default values)',
  load: () => Promise.resolve([NAMESPACE, ...helmTemplate()]),
};

const unavailable = controlPlaneUnavailable();
const inCi = /^(true|1)$/i.test(process.env.CI ?? '');

void describe(
  'the Helm chart on a real control plane',
  { skip: unavailable !== undefined && !inCi ? unavailable : false },
  () => {
    const env = new E2eEnvironment({ manifests: CHART.load });
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
    deployCases(env, CHART);
    injectionCases(env);
  },
);
