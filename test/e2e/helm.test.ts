// The Helm chart (deploy/helm/sidekick) against deploy/base: the real helm renders it, and with
// the default values it must describe the objects kustomize builds from the base, and with
// certificates.mode=cert-manager those of the cert-manager overlay. Two differences are the
// chart's by design, and are the only ones allowed:
// - no Namespace object: Helm keeps its release record in the namespace, so it must exist before
//   the chart's objects (`helm install --create-namespace`, or created and labelled beforehand);
// - the certs Job is named sidekick-certs-<hash of its Pod template>: a Job's template is
//   immutable, so `helm upgrade` to a new image makes a new Job instead of failing with 422.
// With relay.enabled the chart adds the objects of deploy/relay (relay.mode=deployment) or of
// deploy/overlays/relay-daemonset (relay.mode=daemonset), with the same one difference for the
// relay's certs Job (sidekick-relay-certs-<hash>).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
      const job = /^(sidekick-certs|sidekick-relay-certs)-[0-9a-f]{8}$/.exec(name(o));
      if (o.kind !== 'Job' || job === null) return o;
      const copy = structuredClone(o);
      if (isObject(copy.metadata)) copy.metadata.name = job[1] ?? name(o);
      return copy;
    })
    .sort((a, b) => key(a).localeCompare(key(b)));
}

export function normalisedKustomize(objects: readonly JsonObject[]): JsonObject[] {
  return objects.filter((o) => o.kind !== 'Namespace').sort((a, b) => key(a).localeCompare(key(b)));
}

/** `kustomize build` of a kustomization with these directories (relative to the repository) as resources. */
function kustomizeBuildOf(dirs: readonly string[]): JsonObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'sidekick-combined-'));
  try {
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      stringify({ resources: dirs.map((d) => relative(dir, repoPath(d))) }),
    );
    return kustomizeBuild(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void describe(`helm ${HELM_VERSION}`, () => {
  void it('lints the chart, with the relay off and in either mode', (t) => {
    t.diagnostic(helm(['version', '--short']).trim());
    for (const args of [
      [],
      ['--set', 'relay.enabled=true'],
      ['--set', 'relay.enabled=true', '--set', 'relay.mode=daemonset', '--set', 'relay.secrets=true'],
    ]) {
      const out = helm(['lint', '--strict', CHART, ...args]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/, args.join(' '));
    }
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

  void it('renders, with relay.enabled, the objects of deploy/base and deploy/relay', () => {
    const chart = helmTemplateThroughKustomize(['--set', 'relay.enabled=true']);
    const kustomize = kustomizeBuildOf(['deploy/base', 'deploy/relay']);
    assert.ok(kustomize.some((o) => key(o) === 'Deployment/sidekick-relay'));
    assert.deepEqual(normalisedChart(chart), normalisedKustomize(kustomize));
  });

  void it('renders, with relay.mode=daemonset, the objects of deploy/base and the relay-daemonset overlay', () => {
    const chart = helmTemplateThroughKustomize([
      '--set',
      'relay.enabled=true',
      '--set',
      'relay.mode=daemonset',
    ]);
    const kustomize = kustomizeBuildOf(['deploy/base', 'deploy/overlays/relay-daemonset']);
    assert.ok(kustomize.some((o) => key(o) === 'DaemonSet/sidekick-relay'));
    assert.ok(!kustomize.some((o) => key(o) === 'PodDisruptionBudget/sidekick-relay'));
    assert.deepEqual(normalisedChart(chart), normalisedKustomize(kustomize));
  });

  void it("applies the relay values, and points config-watcher at the release namespace's relay", () => {
    const resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } };
    const objects = helmTemplate([
      '--namespace',
      'platform',
      '--set',
      'relay.enabled=true',
      '--set',
      'relay.replicas=3',
      '--set',
      'relay.rate=50',
      '--set',
      'relay.secrets=true',
      '--set',
      'relay.podDisruptionBudget.minAvailable=2',
      '--set-json',
      `relay.resources=${JSON.stringify(resources)}`,
    ]);
    const find = (kind: string, n: string): JsonObject => {
      const found = objects.find((o) => o.kind === kind && name(o) === n);
      assert.ok(found, `${kind}/${n}`);
      return found;
    };
    const spec = find('Deployment', 'sidekick-relay').spec as JsonObject;
    assert.equal(spec.replicas, 3);
    const container = (
      ((spec.template as JsonObject).spec as JsonObject).containers as JsonObject[]
    )[0] as JsonObject;
    assert.deepEqual(container.resources, resources);
    const args = container.args as string[];
    assert.ok(args.includes('--rate=50') && args.includes('--secrets'), args.join(' '));
    assert.equal((find('PodDisruptionBudget', 'sidekick-relay').spec as JsonObject).minAvailable, 2);
    const rules = find('ClusterRole', 'sidekick-relay').rules as JsonObject[];
    assert.deepEqual(rules[1], { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] });
    assert.deepEqual(
      rules
        .flatMap((r) => r.verbs as string[])
        .filter((v) => !['get', 'list', 'watch', 'create'].includes(v)),
      [],
    );
    assert.match(JSON.stringify(objects.filter((o) => o.kind === 'Job')), /--namespace=platform/);
    // The CA bundle published to a fixed list of namespaces: a Role in each, no namespace listing.
    const limited = helmTemplate([
      '--set',
      'relay.enabled=true',
      '--set',
      'relay.caNamespaces={team-a,team-b}',
    ]);
    const publishers = limited.filter((o) => name(o) === 'sidekick-relay-ca-publisher');
    assert.deepEqual(
      publishers.map((o) => `${key(o)}@${JSON.stringify((o.metadata as JsonObject).namespace)}`).sort(),
      [
        'Role/sidekick-relay-ca-publisher@"team-a"',
        'Role/sidekick-relay-ca-publisher@"team-b"',
        'RoleBinding/sidekick-relay-ca-publisher@"team-a"',
        'RoleBinding/sidekick-relay-ca-publisher@"team-b"',
      ],
    );
    for (const kind of ['Job', 'CronJob'])
      assert.match(
        JSON.stringify(limited.filter((o) => o.kind === kind)),
        /"--publish-namespaces=team-a,team-b"/,
        kind,
      );
    const watcher = (find('ConfigMap', 'sidekick-templates').data as Record<string, string>)[
      'config-watcher.yaml'
    ];
    assert.match(watcher ?? '', /default: https:\/\/sidekick-relay\.platform\.svc\n/);
    // Without --secrets the relay refuses Secrets, and its role has none.
    const plain = helmTemplate([
      '--set',
      'relay.enabled=true',
      '--set',
      'relay.podDisruptionBudget.enabled=false',
    ]);
    assert.doesNotMatch(
      JSON.stringify(plain.filter((o) => o.kind === 'ClusterRole' && name(o) === 'sidekick-relay')),
      /secrets/,
    );
    assert.ok(!plain.some((o) => o.kind === 'PodDisruptionBudget' && name(o) === 'sidekick-relay'));
    assert.ok(!helmTemplate([]).some((o) => name(o).startsWith('sidekick-relay')));
    assert.throws(
      () => helmTemplate(['--set', 'relay.enabled=true', '--set', 'relay.mode=sidecar']),
      /relay.mode must be/,
    );
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
    const builtins = readdirSync(repoPath('templates'))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    assert.ok(builtins.includes('db-proxy.yaml') && builtins.length > 1);
    assert.deepEqual(Object.keys(data).sort(), builtins);
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
