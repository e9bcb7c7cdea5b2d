// deploy/ and the Dockerfile, checked by reading: what the control-plane test cannot see (the
// names that tie the objects together, the cert-manager overlay, the image build).
import { readFinalStage } from '../../scripts/image/dockerfile.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { isObject, type Json, type JsonObject } from '../../src/json.js';
import { loadKustomization, loadManifest } from './harness/manifests.js';
import { at, objectAt, str, stringsAt } from './harness/objects.js';
import { repoPath } from '../support/paths.js';

const execFileAsync = promisify(execFile);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);

function find(objects: JsonObject[], kind: string, name: string): JsonObject {
  const found = objects.find((o) => o.kind === kind && isObject(o.metadata) && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
}

function objectsAt(value: Json | undefined, ...path: (string | number)[]): JsonObject[] {
  const list = at(value, ...path);
  assert.ok(Array.isArray(list), `${path.join('.')} is not a list`);
  return list.filter(isObject);
}

void describe('deploy/base', async () => {
  const objects = await loadKustomization(repoPath('deploy/base'));
  const deployment = find(objects, 'Deployment', 'sidekick');
  const podSpec = objectAt(deployment, 'spec', 'template', 'spec');
  const container = objectsAt(podSpec, 'containers')[0]!;
  const args = stringsAt(
    find(objects, 'Job', 'sidekick-certs'),
    'spec',
    'template',
    'spec',
    'containers',
    0,
    'args',
  );
  const flag = (list: string[], name: string): string | undefined =>
    list.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

  void it('keeps every namespaced object in namespace sidekick, named in each file', () => {
    for (const object of objects) {
      const metadata = objectAt(object, 'metadata');
      if (CLUSTER_SCOPED.has(str(object.kind))) assert.equal(metadata.namespace, undefined);
      else assert.equal(metadata.namespace, 'sidekick', `${str(object.kind)} ${str(metadata.name)}`);
    }
  });

  void it('ships the built-in templates as its ConfigMap, up to date', async () => {
    await execFileAsync(process.execPath, [repoPath('scripts/sync-deploy-templates.mjs'), '--check']);
    const configMap = find(objects, 'ConfigMap', 'sidekick-templates');
    const data = objectAt(configMap, 'data');
    assert.ok(Object.keys(data).length >= 5);
    for (const [file, text] of Object.entries(data)) {
      assert.equal(text, await readFile(repoPath(`templates/${file}`), 'utf8'));
    }
    const volume = objectsAt(podSpec, 'volumes').find((v) => isObject(v.configMap));
    assert.equal(at(volume, 'configMap', 'name'), 'sidekick-templates');
    const mount = objectsAt(container, 'volumeMounts').find((m) => m.name === volume?.name);
    assert.equal(flag(stringsAt(container, 'args'), 'templates'), at(mount, 'mountPath'));
    assert.equal(mount?.subPath, undefined, 'a subPath mount never sees ConfigMap updates');
  });

  void it('serves with the Secret that `sidekick certs` writes, for the Service the webhook calls', () => {
    const secretVolume = objectsAt(podSpec, 'volumes').find((v) => isObject(v.secret));
    assert.equal(at(secretVolume, 'secret', 'secretName'), flag(args, 'secret'));
    const mount = objectsAt(container, 'volumeMounts').find((m) => m.name === secretVolume?.name);
    assert.equal(flag(stringsAt(container, 'args'), 'tls-cert'), `${str(at(mount, 'mountPath'))}/tls.crt`);
    assert.equal(flag(stringsAt(container, 'args'), 'tls-key'), `${str(at(mount, 'mountPath'))}/tls.key`);

    const service = find(objects, 'Service', 'sidekick');
    const webhook = objectsAt(find(objects, 'MutatingWebhookConfiguration', 'sidekick'), 'webhooks')[0]!;
    assert.equal(at(webhook, 'clientConfig', 'service', 'name'), flag(args, 'service'));
    assert.equal(at(webhook, 'clientConfig', 'service', 'namespace'), flag(args, 'namespace'));
    assert.equal(at(webhook, 'clientConfig', 'service', 'name'), 'sidekick');
    const port = objectsAt(service, 'spec', 'ports').find(
      (p) => p.port === at(webhook, 'clientConfig', 'service', 'port'),
    );
    assert.ok(port, 'the Service has the port the webhook calls');
    const containerPort = objectsAt(container, 'ports').find((p) => p.name === port.targetPort);
    assert.equal(JSON.stringify(containerPort?.containerPort), flag(stringsAt(container, 'args'), 'port'));
    assert.equal(flag(stringsAt(container, 'args'), 'address'), '0.0.0.0');

    const podLabels = objectAt(deployment, 'spec', 'template', 'metadata', 'labels');
    for (const selector of [
      objectAt(service, 'spec', 'selector'),
      objectAt(deployment, 'spec', 'selector', 'matchLabels'),
      objectAt(find(objects, 'PodDisruptionBudget', 'sidekick'), 'spec', 'selector', 'matchLabels'),
    ]) {
      for (const [key, value] of Object.entries(selector)) assert.equal(podLabels[key], value, key);
    }
  });

  void it('excludes the system namespaces and its own, and lets only annotated Pods through', () => {
    const webhook = objectsAt(find(objects, 'MutatingWebhookConfiguration', 'sidekick'), 'webhooks')[0]!;
    const expressions = objectsAt(webhook, 'namespaceSelector', 'matchExpressions');
    const notIn = expressions.find((e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn');
    assert.deepEqual([...stringsAt(notIn, 'values')].sort(), [
      'kube-node-lease',
      'kube-public',
      'kube-system',
      'sidekick',
    ]);
    assert.ok(expressions.some((e) => e.key === 'sidekick.dev/injection' && e.operator === 'In'));
    const [condition] = objectsAt(webhook, 'matchConditions');
    // Any key under the prefix, so that a misspelled one still gets its did-you-mean.
    assert.match(str(condition?.expression), /annotations\.exists\(k, k\.startsWith\('sidekick\.dev\/'\)\)/);
    assert.match(str(condition?.expression), /labels\.exists\(k, k\.startsWith\('sidekick\.dev\/'\)\)/);
  });

  void it('checks workloads at apply time in opted-in namespaces, warns in the others, checks its templates', () => {
    const config = find(objects, 'ValidatingWebhookConfiguration', 'sidekick-workloads');
    const webhooks = objectsAt(config, 'webhooks');
    const byName = new Map(webhooks.map((w) => [str(w.name), w]));
    assert.deepEqual(
      [...byName.keys()],
      ['workloads.sidekick.dev', 'not-opted-in.workloads.sidekick.dev', 'templates.sidekick.dev'],
    );
    for (const webhook of webhooks) {
      assert.equal(webhook.failurePolicy, 'Ignore', `${str(webhook.name)}: the Pod webhook enforces`);
      assert.equal(webhook.sideEffects, 'None');
      assert.equal(at(webhook, 'clientConfig', 'service', 'name'), 'sidekick');
    }
    const label = (name: string): JsonObject | undefined =>
      objectsAt(byName.get(name), 'namespaceSelector', 'matchExpressions').find(
        (e) => e.key === 'sidekick.dev/injection',
      );
    assert.equal(label('workloads.sidekick.dev')?.operator, 'In');
    assert.equal(label('not-opted-in.workloads.sidekick.dev')?.operator, 'NotIn');
    assert.equal(at(byName.get('workloads.sidekick.dev'), 'clientConfig', 'service', 'path'), '/validate');
    assert.equal(
      at(byName.get('not-opted-in.workloads.sidekick.dev'), 'clientConfig', 'service', 'path'),
      '/validate/not-opted-in',
    );
    const templates = byName.get('templates.sidekick.dev');
    assert.equal(
      at(templates, 'namespaceSelector', 'matchLabels', 'kubernetes.io/metadata.name'),
      'sidekick',
    );
    const configMap = find(objects, 'ConfigMap', 'sidekick-templates');
    assert.match(
      str(objectsAt(templates, 'matchConditions')[0]?.expression),
      new RegExp(`'${str(at(configMap, 'metadata', 'name'))}'`),
    );
  });

  void it('gives the server no API access and the certs Job only its Secret and webhook configuration', () => {
    assert.equal(podSpec.automountServiceAccountToken, false);
    const server = find(objects, 'ServiceAccount', str(podSpec.serviceAccountName));
    assert.equal(server.automountServiceAccountToken, false);
    const bound = objects.filter(
      (o) =>
        (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') &&
        objectsAt(o, 'subjects').some((s) => s.name === podSpec.serviceAccountName),
    );
    assert.deepEqual(bound, [], 'nothing is bound to the server account');

    const role = find(objects, 'Role', 'sidekick-certs');
    const named = objectsAt(role, 'rules').filter((r) => Array.isArray(r.resourceNames));
    assert.deepEqual(
      named.map((r) => r.resourceNames),
      [[flag(args, 'secret')]],
    );
    const clusterRole = find(objects, 'ClusterRole', 'sidekick-certs');
    const flags: Record<string, string> = {
      mutatingwebhookconfigurations: 'webhook',
      validatingwebhookconfigurations: 'validating-webhook',
    };
    for (const rule of objectsAt(clusterRole, 'rules')) {
      const [resource = ''] = stringsAt(rule, 'resources');
      assert.deepEqual(rule.resourceNames, [flag(args, flags[resource] ?? '(none)')], resource);
      assert.ok(!stringsAt(rule, 'verbs').some((v) => v === '*' || v === 'delete' || v === 'list'));
    }
  });

  void it("renews the certificate every hour with the certs Job's own Pod, one run at a time", () => {
    const job = find(objects, 'Job', 'sidekick-certs');
    const cronJob = find(objects, 'CronJob', 'sidekick-certs');
    assert.deepEqual(
      at(cronJob, 'spec', 'jobTemplate', 'spec', 'template'),
      at(job, 'spec', 'template'),
      'the same Pod, account, arguments and least privileges',
    );
    assert.match(str(at(cronJob, 'spec', 'schedule')), /^\d{1,2} \* \* \* \*$/);
    assert.equal(at(cronJob, 'spec', 'concurrencyPolicy'), 'Forbid');
  });

  void it('runs the server highly available and locked down', () => {
    assert.ok(Number(at(deployment, 'spec', 'replicas')) >= 2);
    assert.ok(at(podSpec, 'affinity', 'podAntiAffinity'));
    for (const probe of ['readinessProbe', 'livenessProbe']) assert.ok(container[probe], probe);
    assert.ok(at(container, 'resources', 'requests') && at(container, 'resources', 'limits'));
    const security = objectAt(container, 'securityContext');
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.runAsNonRoot, true);
    assert.deepEqual(at(security, 'capabilities', 'drop'), ['ALL']);
    assert.equal(at(find(objects, 'PodDisruptionBudget', 'sidekick'), 'spec', 'minAvailable'), 1);
  });
});

void describe('deploy/overlays/cert-manager', () => {
  void it('lets cert-manager issue the Secret the server mounts and inject its CA', async () => {
    const dir = repoPath('deploy/overlays/cert-manager');
    const kustomization = parse(await readFile(`${dir}/kustomization.yaml`, 'utf8')) as Json;
    assert.deepEqual(at(kustomization, 'resources'), ['../../base', 'certificates.yaml']);
    const base = await loadKustomization(repoPath('deploy/base'));
    const certificates = await loadManifest(`${dir}/certificates.yaml`);
    const [annotation] = await loadManifest(`${dir}/inject-ca-from.yaml`);
    const from = str(at(annotation, 'metadata', 'annotations', 'cert-manager.io/inject-ca-from'));
    const [validating] = await loadManifest(`${dir}/inject-ca-from-validating.yaml`);
    assert.equal(at(validating, 'kind'), 'ValidatingWebhookConfiguration');
    assert.equal(at(validating, 'metadata', 'annotations', 'cert-manager.io/inject-ca-from'), from);
    const [namespace, name] = from.split('/');
    const serving = find(certificates, 'Certificate', name ?? '');
    assert.equal(at(serving, 'metadata', 'namespace'), namespace);
    const secretVolume = objectsAt(
      find(base, 'Deployment', 'sidekick'),
      'spec',
      'template',
      'spec',
      'volumes',
    ).find((v) => isObject(v.secret));
    assert.equal(at(serving, 'spec', 'secretName'), at(secretVolume, 'secret', 'secretName'));
    assert.ok(stringsAt(serving, 'spec', 'dnsNames').includes('sidekick.sidekick.svc'));
    // The built overlay is the base without its certs Job and CronJob and their account and
    // permissions, plus cert-manager's objects, the webhooks annotated.
    const overlay = await loadKustomization(dir);
    const key = (o: JsonObject): string => `${str(o.kind)}/${str(at(o, 'metadata', 'name'))}`;
    const isCerts = (o: JsonObject): boolean =>
      isObject(o.metadata) &&
      isObject(o.metadata.labels) &&
      o.metadata.labels['app.kubernetes.io/component'] === 'certs';
    assert.ok(base.filter(isCerts).length >= 7, base.filter(isCerts).map(key).join(', '));
    assert.deepEqual(
      overlay.map(key).sort(),
      [...base.filter((o) => !isCerts(o)), ...certificates].map(key).sort(),
    );
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])
      for (const config of overlay.filter((o) => o.kind === kind))
        assert.equal(
          at(config, 'metadata', 'annotations', 'cert-manager.io/inject-ca-from'),
          from,
          key(config),
        );
  });
});

void describe('Dockerfile', () => {
  void it('builds in stages and runs as a numeric non-root user from the current Node LTS', async () => {
    const text = await readFile(repoPath('Dockerfile'), 'utf8');
    const lines = text.split('\n').filter((l) => !l.startsWith('#'));
    assert.ok(lines.filter((l) => l.startsWith('FROM ')).length >= 2, 'multi-stage');
    const stage = readFinalStage(text);
    // Node 26 has been the active LTS line since October 2026.
    assert.match(stage.args.NODE_VERSION ?? '', /^26\.\d+\.\d+$/);
    assert.match(text, /^FROM node:\$\{NODE_VERSION\}-bookworm-slim AS build$/m);
    assert.match(text, /npm ci --omit=dev/);
    assert.equal(stage.base, 'scratch');
    assert.equal(stage.user, '65532:65532');
    assert.deepEqual(stage.entrypoint, ['/usr/local/bin/node', '/app/dist/src/main.js']);
    assert.deepEqual(stage.cmd, ['serve']);
    const copied = stage.copies.map((c) => c.destination);
    for (const path of ['/usr/local/bin/node', '/app/node_modules', '/app/dist/src', '/app/templates']) {
      assert.ok(copied.includes(path), `the image holds ${path}`);
    }
    const ignore = await readFile(repoPath('.dockerignore'), 'utf8');
    for (const kept of ['src', 'templates', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      assert.ok(!ignore.split('\n').includes(kept), `.dockerignore must not drop ${kept}`);
    }
  });
});
