// `sidekick check` on real objects, with an account that may only get and list: it finds each
// kind of problem the objects of this suite and a few made here hold, as a table and as JSON.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isObject, type Json } from '../../../src/json.js';
import { builtinTemplateDir } from '../../../src/templates/load.js';
import { loopbackCertificate } from '../../support/certificates.js';
import { runSidekick } from '../harness/cli.js';
import type { E2eEnvironment } from '../harness/environment.js';
import { INJECT, jobPodTemplate, pod, str } from '../harness/objects.js';

const READER = 'sidekick-check-reader';

interface Finding {
  check: string;
  severity: string;
  object: string;
  detail: string;
}

function findingsOf(stdout: string): Finding[] {
  const parsed = JSON.parse(stdout) as Json;
  assert.ok(isObject(parsed) && Array.isArray(parsed.findings), stdout);
  return parsed.findings.filter(isObject).map((f) => ({
    check: str(f.check),
    severity: str(f.severity),
    object: str(f.object),
    detail: str(f.detail),
  }));
}

/** A kubeconfig for an account bound to a ClusterRole of get and list only, no Secrets. */
async function readerKubeconfig(env: E2eEnvironment, home: string): Promise<string> {
  await env.api.apply({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: READER, namespace: 'sidekick' },
  });
  await env.api.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: READER },
    rules: [
      { apiGroups: [''], resources: ['namespaces', 'pods', 'configmaps'], verbs: ['get', 'list'] },
      { apiGroups: ['apps', 'batch'], resources: ['*'], verbs: ['get', 'list'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list'] },
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
        verbs: ['get', 'list'],
      },
    ],
  });
  await env.api.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: READER },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: READER },
    subjects: [{ kind: 'ServiceAccount', name: READER, namespace: 'sidekick' }],
  });
  const path = join(home, 'reader.kubeconfig');
  await env.serviceAccountKubeconfig('sidekick', READER, path);
  return path;
}

/** The built-in templates with otel-collector tightened (https only) and log-shipper's image moved on. */
async function tightenedTemplates(dir: string): Promise<void> {
  await cp(builtinTemplateDir(), dir, { recursive: true });
  const otel = join(dir, 'otel-collector.yaml');
  const text = await readFile(otel, 'utf8');
  // The endpoint's alternatives are host:port|https?://…: https://… only.
  const tightened = text.replace(/pattern: '[^'\n]*?\|https\?:\/\//, "pattern: 'https://");
  assert.notEqual(tightened, text, 'the otel-collector pattern was not found');
  await writeFile(otel, tightened);
  const shipper = join(dir, 'log-shipper.yaml');
  const image = (await readFile(shipper, 'utf8')).replace(/fluent-bit:[0-9.]+/, 'fluent-bit:9.9.9');
  await writeFile(shipper, image);
}

export function checkCases(env: E2eEnvironment): void {
  env.test('`sidekick check` finds each kind of problem on real objects, read-only', async () => {
    const home = join(env.cp.dir, 'check-home');
    await mkdir(home);
    const kubeconfig = await readerKubeconfig(env, home);
    // A Pod whose status says its sidecars came from templates that are not the current ones.
    await env.createPod(
      'team-a',
      pod({
        name: 'stale',
        annotations: { 'sidekick.dev/status': '{"sidecars":["log-shipper"],"templates":"0000000000000000"}' },
      }),
    );
    // A Job the tightened templates would refuse (its endpoint is plain http).
    await env.api.create('/apis/batch/v1/namespaces/team-a/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'exporter' },
      spec: {
        backoffLimit: 0,
        template: jobPodTemplate(
          { app: 'exporter' },
          {
            [INJECT]: 'otel-collector',
            'sidekick.dev/otel-collector.endpoint': 'http://collector.team-a:4317',
          },
        ),
      },
    });
    // A webhook configuration whose caBundle trusts another CA, and one called through a Service
    // that has no ready endpoint (no nodes run its Pods); it matches no namespace.
    const injectorUrl = env.injector.url;
    const otherCa = (await loopbackCertificate()).ca.cert;
    await env.api.apply({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'sidekick-check-broken' },
      webhooks: [
        {
          name: 'url.check.sidekick.dev',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Ignore',
          clientConfig: { url: injectorUrl, caBundle: Buffer.from(otherCa).toString('base64') },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'no-such-namespace' } },
        },
        {
          name: 'service.check.sidekick.dev',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Ignore',
          clientConfig: { service: { name: 'sidekick', namespace: 'sidekick', path: '/mutate', port: 443 } },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'no-such-namespace' } },
        },
      ],
    });

    try {
      const healthy = await runSidekick(['check', `--kubeconfig=${kubeconfig}`, '-o', 'json'], home);
      assert.equal(healthy.code, 1, healthy.stderr);
      const found = findingsOf(healthy.stdout);
      const one = (check: string, object: string, severity?: string): Finding => {
        const finding = found.find(
          (f) =>
            f.check === check && f.object === object && (severity === undefined || f.severity === severity),
        );
        assert.ok(finding, `no ${check} finding for ${object} in\n${healthy.stdout}`);
        return finding;
      };
      const mutating = 'MutatingWebhookConfiguration sidekick (inject.sidekick.dev)';
      const validating =
        'ValidatingWebhookConfiguration sidekick-workloads (workloads.sidekick.dev, not-opted-in.workloads.sidekick.dev, templates.sidekick.dev)';
      for (const object of [mutating, validating]) {
        assert.match(
          one('webhook', object, 'ok').detail,
          /^the caBundle trusts the serving certificate; https:\/\/127\.0\.0\.1:\d+\/readyz answers 200$/,
        );
        // The suite's serving certificate lives two days: inside the 30 days renewal must happen in.
        const serving = new X509Certificate(await readFile(env.webhookTls.certFile));
        const days = Math.floor((Date.parse(serving.validTo) - Date.now()) / 86_400_000);
        assert.equal(
          one('webhook', object, 'problem').detail,
          `the serving certificate expires in ${String(days)} days (renewal is overdue)`,
        );
      }
      assert.match(one('namespaces', 'opted in').detail, /\bteam-a\b/);
      const unlabeled = one('not-opted-in', 'Deployment plain/unlabeled');
      assert.equal(unlabeled.severity, 'problem');
      assert.match(unlabeled.detail, /asks for db-proxy, but namespace plain is not opted in/);
      const stale = one('stale', 'Pod team-a/stale');
      assert.match(stale.detail, /come from templates 0000000000000000, not the current [0-9a-f]{16}/);
      // Pods injected with the current templates are not stale.
      assert.ok(!found.some((f) => f.check === 'stale' && f.object !== 'Pod team-a/stale'), healthy.stdout);
      assert.ok(!found.some((f) => f.check === 'refused'), 'nothing is refused by the current templates');
      assert.match(
        one('warnings', 'Deployment team-a/typo').detail,
        /did you mean sidekick\.dev\/log-shipper\.path\?/,
      );

      const broken = await runSidekick(
        ['check', `--kubeconfig=${kubeconfig}`, '-o', 'json', '--webhook=sidekick-check-broken'],
        home,
      );
      const brokenFindings = findingsOf(broken.stdout);
      const problems = brokenFindings
        .filter((f) => f.check === 'webhook' && f.severity === 'problem')
        .map((f) => f.detail);
      assert.ok(
        problems.includes(
          'the caBundle does not trust the serving certificate: every call fails TLS verification',
        ),
        problems.join('\n'),
      );
      assert.ok(
        problems.some((p) => /^Service sidekick\/sidekick has no ready endpoints/.test(p)),
        problems.join('\n'),
      );

      const preview = join(home, 'templates');
      await tightenedTemplates(preview);
      const tightened = await runSidekick(
        ['check', `--kubeconfig=${kubeconfig}`, `--templates=${preview}`],
        home,
      );
      assert.equal(tightened.code, 1);
      const lines = tightened.stdout.split('\n');
      assert.match(lines[0] ?? '', /^CHECK +RESULT +OBJECT +DETAIL$/);
      const row = (check: string, object: string): string => {
        const line = lines.find((l) => l.startsWith(check) && l.includes(` ${object} `));
        assert.ok(line, `no ${check} row for ${object} in\n${tightened.stdout}`);
        return line;
      };
      assert.match(
        row('refused', 'Job team-a/exporter'),
        /problem +Job team-a\/exporter +annotation sidekick\.dev\/otel-collector\.endpoint: value "http:\/\/collector\.team-a:4317" does not fit/,
      );
      assert.match(
        row('changed', 'Deployment team-a/typo'),
        /notice +Deployment team-a\/typo +new Pods would get changed sidecars: log-shipper$/,
      );
      assert.match(tightened.stdout, /\n\d+ problems found\n$/);
    } finally {
      await env.api.delete(
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/sidekick-check-broken',
      );
    }
  });
}
