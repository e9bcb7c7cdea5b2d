// The Helm chart's default rendering installed on a real control plane, as the README says to
// install it (the namespace created and labelled first, then the chart's objects), with strict
// field validation, and the webhook working through it: the same cases as deploy/base. Then the
// relay's objects of relay.enabled, in both modes, applied over it the same way. (The
// cert-manager and provided renderings: certificates-apiserver.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { isObject, type JsonObject } from '../../src/json.js';
import { deployCases, type Installation } from './cases/deploy.js';
import { injectionCases } from './cases/injection.js';
import { controlPlaneUnavailable } from './harness/binaries.js';
import { E2eEnvironment, INJECTION_LABEL } from './harness/environment.js';
import { CHART_NAMESPACE } from './harness/manifests.js';
import { helmTemplate } from '../tools/tools.js';

const CHART: Installation = {
  name: 'the Helm chart (default values)',
  load: () => Promise.resolve([CHART_NAMESPACE, ...helmTemplate()]),
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

    env.test(
      'relay.enabled: its objects in both modes are accepted as written, and its Pods admitted',
      async () => {
        const component = (o: JsonObject): string => {
          const labels = isObject(o.metadata) && isObject(o.metadata.labels) ? o.metadata.labels : {};
          const value = labels['app.kubernetes.io/component'];
          return typeof value === 'string' ? value : '';
        };
        const relayObjects = (args: string[]): JsonObject[] =>
          helmTemplate(['--set', 'relay.enabled=true', ...args]).filter((o) =>
            ['relay', 'relay-certs'].includes(component(o)),
          );
        const deployment = relayObjects([]);
        assert.deepEqual(deployment.map((o) => o.kind).sort(), [
          'ClusterRole',
          'ClusterRole',
          'ClusterRoleBinding',
          'ClusterRoleBinding',
          'CronJob',
          'Deployment',
          'Job',
          'PodDisruptionBudget',
          'Role',
          'RoleBinding',
          'Service',
          'ServiceAccount',
          'ServiceAccount',
        ]);
        for (const object of deployment) await env.api.apply(object);
        for (const object of deployment) await env.api.get(await env.api.objectPath(object));
        // The restricted namespace admits the relay's Pods and its certs Job's (no node runs them).
        await env.podsWithLabel('sidekick', 'app.kubernetes.io/component=relay', 2);
        const [certs] = await env.podsWithLabel('sidekick', 'app.kubernetes.io/component=relay-certs');
        assert.equal(
          isObject(certs?.spec) ? certs.spec.serviceAccountName : undefined,
          'sidekick-relay-certs',
        );

        const daemonset = relayObjects(['--set', 'relay.mode=daemonset', '--set', 'relay.secrets=true']);
        assert.ok(!daemonset.some((o) => o.kind === 'Deployment' || o.kind === 'PodDisruptionBudget'));
        for (const object of daemonset) await env.api.apply(object);
        await env.api.get('/apis/apps/v1/namespaces/sidekick/daemonsets/sidekick-relay');
        const service = await env.api.get('/api/v1/namespaces/sidekick/services/sidekick-relay');
        assert.equal(isObject(service.spec) ? service.spec.internalTrafficPolicy : undefined, 'Local');
        const role = await env.api.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/sidekick-relay');
        assert.deepEqual(Array.isArray(role.rules) ? role.rules[1] : undefined, {
          apiGroups: [''],
          resources: ['secrets'],
          verbs: ['get', 'list', 'watch'],
        });
      },
    );
  },
);
