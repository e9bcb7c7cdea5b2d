// The Helm chart (deploy/helm/sidekick) against deploy/base: the real helm renders it, and with
// the default values it must describe the objects kustomize builds from the base, and with
// certificates.mode=cert-manager those of the cert-manager overlay. Two differences are the
// chart's by design, and are the only ones allowed:
// - no Namespace object: Helm keeps its release record in the namespace, so it must exist before
//   the chart's objects (`helm install --create-namespace`, or created and labelled beforehand);
// - the certs Job is named sidekick-certs-<hash of its Pod template>: a Job's template is
//   immutable, so `helm upgrade` to a new image makes a new Job instead of failing with 422.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { isObject, type JsonObject } from '../../src/json.js';
import { sidekickImages } from '../tools/images.js';
import {
  CHART,
  HELM_VERSION,
  helm,
  helmTemplate,
  kustomizeBuild,
  helmTemplateThroughKustomize,
} from '../tools/tools.js';
import { repoPath } from '../support/paths.js';

const name = (o: JsonObject): string =>
  isObject(o.metadata) && typeof o.metadata.name === 'string' ? o.metadata.name : '?';
const key = (o: JsonObject): string => `${typeof o.kind === 'string' ? o.kind : '?'}/${name(o)}`;

/** The chart's rendering with its two designed differences undone, in a stable order. */
export function normalisedChart(objects: readonly JsonObject[]): JsonObject[] {
  return objects
    .map((o) => {
      if (o.kind !== 'Job' || !/^sidekick-certs-[0-9a-f]{8}$/.test(name(o))) return o;
      const copy = structuredClone(o);
      if (isObject(copy.metadata)) copy.metadata.name = 'sidekick-certs';
      return copy;
    })
    .sort((a, b) => key(a).localeCompare(key(b)));
}

export function normalisedKustomize(objects: readonly JsonObject[]): JsonObject[] {
  return objects.filter((o) => o.kind !== 'Namespace').sort((a, b) => key(a).localeCompare(key(b)));
}

void describe(`helm ${HELM_VERSION}`, () => {
  void it('lints the chart', (t) => {
    t.diagnostic(helm(['version', '--short']).trim());
    const out = helm(['lint', '--strict', CHART]);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  void it('renders, with the default values, the objects of deploy/base', () => {
    const chart = helmTemplateThroughKustomize();
    const base = kustomizeBuild(repoPath('deploy/base'));
    assert.deepEqual(
      chart.map(key).filter((k) => k.startsWith('Namespace/')),
      [],
    );
    assert.deepEqual(normalisedChart(chart), normalisedKustomize(base));
  });

  void it('renders, with certificates.mode=cert-manager, the objects of the cert-manager overlay', () => {
    const chart = helmTemplateThroughKustomize(['--set', 'certificates.mode=cert-manager']);
    const overlay = kustomizeBuild(repoPath('deploy/overlays/cert-manager'));
    assert.deepEqual(normalisedChart(chart), normalisedKustomize(overlay));
  });

  void it('renders, with the alerts and dashboard enabled, those of deploy/components/monitoring', () => {
    const monitoring = (o: JsonObject): boolean =>
      o.kind === 'PrometheusRule' || (o.kind === 'ConfigMap' && name(o) === 'sidekick-dashboard');
    const chart = helmTemplateThroughKustomize([
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.dashboard.enabled=true',
    ]).filter(monitoring);
    const dir = mkdtempSync(join(tmpdir(), 'sidekick-monitoring-'));
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        stringify({
          resources: [relative(dir, repoPath('deploy/base'))],
          components: [relative(dir, repoPath('deploy/components/monitoring'))],
        }),
      );
      const component = kustomizeBuild(dir).filter(monitoring);
      assert.deepEqual(component.map(key).sort(), [
        'ConfigMap/sidekick-dashboard',
        'PrometheusRule/sidekick',
      ]);
      assert.deepEqual(normalisedChart(chart), normalisedKustomize(component));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const elsewhere = helmTemplate(['--namespace', 'ops', '--set', 'metrics.prometheusRule.enabled=true']);
    const rule = elsewhere.find((o) => o.kind === 'PrometheusRule');
    assert.ok(rule, 'PrometheusRule');
    assert.equal((rule.metadata as JsonObject).namespace, 'ops');
    assert.equal(helmTemplate([]).filter(monitoring).length, 0);
  });

  void it('names the certs Job after its Pod template', () => {
    const jobs = (args: string[]): string[] =>
      helmTemplate(args)
        .filter((o) => o.kind === 'Job')
        .map(name);
    const [first] = jobs([]);
    assert.match(first ?? '', /^sidekick-certs-[0-9a-f]{8}$/);
    assert.deepEqual(jobs(['--set', 'replicas=3']), [first]);
    assert.notDeepEqual(jobs(['--set', 'image.tag=9.9.9']), [first]);
  });

  void it('takes the image from one value, everywhere it is named', () => {
    for (const mode of ['self', 'cert-manager']) {
      const objects = helmTemplate([
        '--set',
        `certificates.mode=${mode}`,
        '--set',
        'image.repository=registry.example/sk',
        '--set',
        'image.tag=9',
      ]);
      const references = sidekickImages(objects);
      assert.ok(references.length >= (mode === 'self' ? 4 : 3), JSON.stringify(references));
      for (const reference of references)
        assert.equal(reference.image, 'registry.example/sk:9', reference.where);
      assert.doesNotMatch(JSON.stringify(objects), /ghcr\.io\/sidekick-dev/);
    }
  });

  void it('applies the values it documents', () => {
    const objects = helmTemplate([
      '--set',
      'replicas=3',
      '--set',
      'webhook.failurePolicy=Ignore',
      '--set',
      'webhook.timeoutSeconds=3',
      '--set',
      'webhook.excludedNamespaces={kube-system,batch}',
      '--set',
      'priorityClassName=sidekick-critical',
      '--set',
      'podDisruptionBudget.enabled=false',
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'networkPolicy.enabled=true',
      '--set',
      'templates.builtin=false',
      '--set-string',
      'templates.extra.probe\\.yaml=x: 1',
    ]);
    const find = (kind: string): JsonObject => {
      const found = objects.find((o) => o.kind === kind);
      assert.ok(found, kind);
      return found;
    };
    const deployment = find('Deployment');
    const spec = deployment.spec as JsonObject;
    assert.equal(spec.replicas, 3);
    const pod = (spec.template as JsonObject).spec as JsonObject;
    assert.equal(pod.priorityClassName, 'sidekick-critical');
    const webhook = (find('MutatingWebhookConfiguration').webhooks as JsonObject[])[0] as JsonObject;
    assert.equal(webhook.failurePolicy, 'Ignore');
    assert.equal(webhook.timeoutSeconds, 3);
    assert.deepEqual((webhook.namespaceSelector as JsonObject).matchExpressions, [
      { key: 'sidekick.dev/injection', operator: 'In', values: ['enabled'] },
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'batch', 'sidekick'] },
    ]);
    assert.equal(objects.filter((o) => o.kind === 'PodDisruptionBudget').length, 0);
    find('ServiceMonitor');
    find('NetworkPolicy');
    assert.deepEqual(find('ConfigMap').data, { 'probe.yaml': 'x: 1' });
  });

  void it('replaces a built-in template by one of the same file name, and keeps the others', () => {
    const objects = helmTemplate(['--set-string', 'templates.extra.db-proxy\\.yaml=replaced: true']);
    const data = objects.find((o) => o.kind === 'ConfigMap')?.data as Record<string, string>;
    assert.equal(data['db-proxy.yaml'], 'replaced: true');
    assert.deepEqual(Object.keys(data).sort(), [
      'config-watcher.yaml',
      'db-proxy.yaml',
      'log-shipper.yaml',
      'otel-collector.yaml',
      'vault-agent.yaml',
    ]);
  });

  void it('uses a provided Secret and CA, with neither the certs Job nor cert-manager', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const objects = helmTemplate([
      '--set',
      'certificates.mode=provided',
      '--set',
      'certificates.provided.secretName=my-tls',
      '--set-string',
      `certificates.provided.caBundle=${ca}`,
    ]);
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Job' || o.kind === 'Certificate' || o.kind === 'Issuer'),
      [],
    );
    assert.ok(!objects.some((o) => name(o) === 'sidekick-certs'));
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])
      for (const webhook of objects.find((o) => o.kind === kind)?.webhooks as JsonObject[])
        assert.equal((webhook.clientConfig as JsonObject).caBundle, Buffer.from(ca).toString('base64'), kind);
    assert.match(JSON.stringify(objects.find((o) => o.kind === 'Deployment')), /"secretName":"my-tls"/);
    assert.throws(
      () => helmTemplate(['--set', 'certificates.mode=provided']),
      /is required with certificates.mode=provided/,
    );
  });
});
