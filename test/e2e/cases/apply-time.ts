// What the person running `kubectl apply` sees: deploy/base's ValidatingWebhookConfiguration on
// the real apiserver sends workloads and the templates ConfigMap to POST /validate.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { JsonObject } from '../../../src/json.js';
import { builtinTemplateDir } from '../../../src/templates/load.js';
import { rejection, type E2eEnvironment } from '../harness/environment.js';
import { INJECT, podTemplate } from '../harness/objects.js';

const DEPLOYMENTS = (namespace: string): string => `/apis/apps/v1/namespaces/${namespace}/deployments`;
const TEMPLATES = '/api/v1/namespaces/sidekick/configmaps/sidekick-templates';

function deployment(name: string, annotations: Record<string, string>): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: podTemplate({ app: name }, annotations),
    },
  };
}

export function applyTimeCases(env: E2eEnvironment): void {
  env.test(
    'a Deployment with a misspelled parameter is created, and the warning reaches the client',
    async () => {
      const created = await env.api.create(
        DEPLOYMENTS('team-a'),
        deployment('typo', { [INJECT]: 'log-shipper', 'sidekick.dev/log-shipper.pth': '/logs' }),
      );
      assert.ok(
        created.warnings.includes(
          'annotation sidekick.dev/log-shipper.pth is not a sidekick annotation (did you mean sidekick.dev/log-shipper.path?)',
        ),
        created.warnings.join('\n'),
      );
    },
  );

  env.test(
    'a Deployment whose Pods would be refused is denied at create, with sidekick’s message',
    async () => {
      const error = await rejection(
        env.api.create(DEPLOYMENTS('team-a'), deployment('no-instance', { [INJECT]: 'db-proxy' })),
      );
      assert.equal(error.status, 400);
      assert.match(
        error.message,
        /admission webhook "workloads\.sidekick\.dev" denied the request: Deployment team-a\/no-instance: annotation sidekick\.dev\/db-proxy\.instance is required: .* \(its Pods would be refused\)/,
      );
      await rejection(env.api.get(`${DEPLOYMENTS('team-a')}/no-instance`));
    },
  );

  env.test('keys on the Deployment’s own metadata are warned about, saying where they belong', async () => {
    const object = deployment('misplaced', {});
    object.metadata = { name: 'misplaced', annotations: { [INJECT]: 'log-shipper' } };
    const created = await env.api.create(DEPLOYMENTS('team-a'), object);
    assert.deepEqual(created.warnings, [
      "annotation sidekick.dev/inject is on the Deployment's own metadata, which sidekick does not read; move it to the Pod template's annotations (spec.template.metadata.annotations)",
    ]);
  });

  env.test('a Deployment in a namespace that is not opted in gets one warning', async () => {
    const created = await env.api.create(
      DEPLOYMENTS('plain'),
      deployment('unlabeled', { [INJECT]: 'db-proxy', 'sidekick.dev/db-proxy.instanse': 'x' }),
    );
    assert.deepEqual(created.warnings, [
      'namespace plain is not opted in to sidecar injection (it lacks the label sidekick.dev/injection=enabled): the Pods of Deployment plain/unlabeled will be created without the sidecars sidekick.dev/inject asks for (db-proxy)',
    ]);
  });

  env.test('objects without a key under the prefix never reach the webhook', async () => {
    const created = await env.api.create(DEPLOYMENTS('team-a'), deployment('plain-app', {}));
    assert.deepEqual(created.warnings, []);
  });

  env.test('a bad templates ConfigMap is denied with every problem; a good one is accepted', async () => {
    const current = await env.api.get(TEMPLATES);
    const bad: JsonObject = {
      ...current,
      data: {
        'a.yaml':
          'apiVersion: sidekick.dev/v1alpha1\nkind: SidecarTemplate\nmetadata: { name: a }\nspec:\n  description: a\n  requires: [missing]\n  container: { image: x:1 }\n',
        'b.yaml':
          'apiVersion: sidekick.dev/v1alpha1\nkind: SidecarTemplate\nmetadata: { name: B_ }\nspec: {}\n',
      },
    };
    const error = await rejection(env.api.call('PUT', TEMPLATES, { body: bad }));
    assert.match(
      error.message,
      /admission webhook "templates\.sidekick\.dev" denied the request: ConfigMap sidekick\/sidekick-templates: the sidecar templates are invalid \(\d+ problems\): /,
    );
    assert.match(error.message, /data\[a\.yaml\]: spec\.requires: no template named 'missing'/);
    assert.match(error.message, /data\[b\.yaml\]: metadata\.name/);
    const good: JsonObject = {
      ...current,
      data: { 'log-shipper.yaml': await readFile(`${builtinTemplateDir()}/log-shipper.yaml`, 'utf8') },
    };
    const updated = await env.api.call('PUT', TEMPLATES, { body: good });
    assert.deepEqual(updated.warnings, []);
    await env.api.call('PUT', TEMPLATES, {
      body: { ...current, metadata: (await env.api.get(TEMPLATES)).metadata ?? {} },
    });
  });
}
