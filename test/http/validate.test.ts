// POST /validate and /validate/not-opted-in over HTTPS: the same edge as /mutate's, then what the
// apply-time check answers for workloads and for the templates ConfigMap, byte for byte.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { isObject, type JsonObject } from '../../src/json.js';
import { builtinTemplateDir } from '../../src/templates/load.js';
import { getMetrics, metricValue, startTestServer, statusJson, type TestServer } from './helpers.js';
import { admissionReview } from '../support/admission-review.js';
import { JSON_HEADERS, send } from '../support/https-request.js';

const MiB = 1024 * 1024;
const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const CONFIGMAP = { group: '', version: 'v1', kind: 'ConfigMap' };

function deployment(annotations: Record<string, string>, extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'team-a' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
      },
      ...extra,
    },
  };
}

function review(uid: string, object: JsonObject | string | null, request: JsonObject = {}): string {
  return JSON.stringify(admissionReview(uid, object, { kind: DEPLOYMENT, ...request }));
}

const answer = (response: JsonObject): string =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });

describe('POST /validate over HTTPS', () => {
  let t: TestServer;
  let warn: TestServer;
  const post = (
    path: string,
    body: string | Buffer,
    headers: Record<string, string | number> = JSON_HEADERS,
  ) => send(t.server.port, { ca: t.ca, path, body, headers });

  before(async () => {
    t = await startTestServer({ templatesDir: builtinTemplateDir(), injectorNamespace: 'sidekick' });
    warn = await startTestServer({ templatesDir: builtinTemplateDir(), workloads: 'warn' });
  });
  after(async () => {
    await t.close();
    await warn.close();
  });

  describe('bad input, as /mutate checks it, on both paths', () => {
    for (const path of ['/validate', '/validate/not-opted-in']) {
      it(`${path}: empty body 400, wrong type 415, too large 413, not JSON 400, not a review 400, no uid 400`, async () => {
        const cases: [string | Buffer, Record<string, string | number>, number, string, string][] = [
          ['', { ...JSON_HEADERS, 'content-length': 0 }, 400, 'BadRequest', 'request body is empty'],
          [
            review('u', deployment({})),
            { 'content-type': 'text/plain' },
            415,
            'UnsupportedMediaType',
            'content type "text/plain" is not supported: expected application/json',
          ],
          [
            Buffer.alloc(12 * MiB, 0x20),
            JSON_HEADERS,
            413,
            'RequestEntityTooLarge',
            `request body is larger than the limit of ${7 * MiB} bytes`,
          ],
          ['{"apiVersion":', JSON_HEADERS, 400, 'BadRequest', 'request body is not valid JSON'],
          [
            '[]',
            JSON_HEADERS,
            400,
            'BadRequest',
            'request body is not an AdmissionReview: expected a JSON object',
          ],
          [
            JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              request: { uid: '' },
            }),
            JSON_HEADERS,
            400,
            'BadRequest',
            'AdmissionReview request has no uid',
          ],
        ];
        for (const [body, headers, status, reason, message] of cases) {
          const res = await post(path, body, headers);
          assert.equal(res.status, status, message);
          assert.equal(res.body, statusJson(status, reason, message));
        }
      });
    }

    it('GET: 405 with Allow: POST', async () => {
      const res = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/validate' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'POST');
      assert.equal(res.body, statusJson(405, 'MethodNotAllowed', 'use POST with an AdmissionReview'));
    });

    it('an object that is not an object: a review that refuses with code 400', async () => {
      const res = await post('/validate', review('u-str', 'a string'));
      assert.equal(
        res.body,
        answer({
          uid: 'u-str',
          allowed: false,
          status: { code: 400, message: 'request.object is not an object' },
        }),
      );
    });

    it('DELETE, a subresource, a Pod: allowed, not checked', async () => {
      const requests: JsonObject[] = [
        { operation: 'DELETE' },
        { subResource: 'scale' },
        { kind: { group: '', version: 'v1', kind: 'Pod' } },
      ];
      for (const request of requests) {
        const res = await post(
          '/validate',
          review('u-x', deployment({ 'sidekick.dev/inject': 'nope' }), request),
        );
        assert.equal(res.body, answer({ uid: 'u-x', allowed: true }), JSON.stringify(request));
      }
    });
  });

  describe('workloads', () => {
    it('denies a Deployment whose Pods would be refused, with the message the Pod would get; never patches', async () => {
      const res = await post(
        '/validate',
        review('u-deny', deployment({ 'sidekick.dev/inject': 'db-proxy' })),
      );
      assert.equal(res.status, 200);
      assert.equal(
        res.body,
        answer({
          uid: 'u-deny',
          allowed: false,
          status: {
            code: 400,
            message:
              'Deployment team-a/web: annotation sidekick.dev/db-proxy.instance is required: Cloud SQL instance connection names, project:region:instance (a legacy domain-scoped project such as example.com:project is accepted too), each optionally =port: its own port on 127.0.0.1 (the others take port, port+1 and so on, in order). (its Pods would be refused)',
          },
        }),
      );
    });

    it('allows a good Deployment, with the warnings kubectl apply prints, and logs their texts', async () => {
      const res = await post(
        '/validate',
        review(
          'u-ok',
          deployment({ 'sidekick.dev/inject': 'log-shipper', 'sidekick.dev/log-shiper.path': '/l' }),
        ),
      );
      const warning =
        'annotation sidekick.dev/log-shiper.path is not a sidekick annotation (did you mean sidekick.dev/log-shipper.path?)';
      assert.equal(res.body, answer({ uid: 'u-ok', allowed: true, warnings: [warning] }));
      const line = t.logs().find((l) => l.uid === 'u-ok');
      assert.ok(line, 'no admission log line');
      assert.deepEqual(line.warnings, [warning]);
      assert.equal(line.decision, 'checked');
    });

    it('finds the Pod template of a custom resource (an Argo Rollout) and of a CronJob', async () => {
      const rollout = {
        ...deployment({ 'sidekick.dev/inject': 'vault' }),
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
      };
      const res = await post(
        '/validate',
        review('u-cr', rollout, { kind: { group: 'argoproj.io', version: 'v1alpha1', kind: 'Rollout' } }),
      );
      const body = JSON.parse(res.body) as JsonObject;
      assert.ok(isObject(body.response) && body.response.allowed === false);
      assert.match(
        JSON.stringify(body.response.status),
        /Rollout team-a\/web: annotation sidekick\.dev\/inject: unknown sidecar 'vault'/,
      );
      const template = deployment({ 'sidekick.dev/inject': 'db-proxy' }).spec as JsonObject;
      const cronJob: JsonObject = {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'nightly', namespace: 'team-a' },
        spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: template.template ?? null } } },
      };
      const cron = await post(
        '/validate',
        review('u-cron', cronJob, { kind: { group: 'batch', version: 'v1', kind: 'CronJob' } }),
      );
      assert.match(
        cron.body,
        /"allowed":false.*CronJob team-a\/nightly: annotation sidekick\.dev\/db-proxy\.instance is required/,
      );
    });

    it('warns about keys on the workload’s own metadata, saying where they belong', async () => {
      const object = deployment({});
      object.metadata = {
        name: 'web',
        namespace: 'team-a',
        annotations: { 'sidekick.dev/inject': 'log-shipper' },
      };
      const res = await post('/validate', review('u-meta', object));
      assert.equal(
        res.body,
        answer({
          uid: 'u-meta',
          allowed: true,
          warnings: [
            "annotation sidekick.dev/inject is on the Deployment's own metadata, which sidekick does not read; move it to the Pod template's annotations (spec.template.metadata.annotations)",
          ],
        }),
      );
    });

    it('an UPDATE that leaves a refused Pod template unchanged is warned about, not denied', async () => {
      const object = deployment({ 'sidekick.dev/inject': 'db-proxy' }, { replicas: 3 });
      const old = deployment({ 'sidekick.dev/inject': 'db-proxy' }, { replicas: 2 });
      const res = await post('/validate', review('u-upd', object, { operation: 'UPDATE', oldObject: old }));
      assert.equal(
        res.body,
        answer({
          uid: 'u-upd',
          allowed: true,
          warnings: [
            'Deployment team-a/web: annotation sidekick.dev/db-proxy.instance is required: Cloud SQL instance connection names, project:region:instance (a legacy domain-scoped project such as example.com:project is accepted too), each optionally =port: its own port on 127.0.0.1 (the others take port, port+1 and so on, in order). (its Pods would be refused); allowed, as its Pod template is unchanged by this update',
          ],
        }),
      );
      const changed = deployment({ 'sidekick.dev/inject': 'db-proxy', 'sidekick.dev/db-proxy.port': '1' });
      const denied = await post(
        '/validate',
        review('u-upd2', changed, { operation: 'UPDATE', oldObject: old }),
      );
      assert.match(denied.body, /"allowed":false/);
    });

    it('--workloads=warn only warns', async () => {
      const res = await send(warn.server.port, {
        ca: warn.ca,
        path: '/validate',
        body: review('u-warn', deployment({ 'sidekick.dev/inject': 'db-proxy' })),
        headers: JSON_HEADERS,
      });
      assert.equal(
        res.body,
        answer({
          uid: 'u-warn',
          allowed: true,
          warnings: [
            'Deployment team-a/web: annotation sidekick.dev/db-proxy.instance is required: Cloud SQL instance connection names, project:region:instance (a legacy domain-scoped project such as example.com:project is accepted too), each optionally =port: its own port on 127.0.0.1 (the others take port, port+1 and so on, in order). (its Pods would be refused); allowed, as --workloads=warn',
          ],
        }),
      );
    });

    it('/validate/not-opted-in: one warning, whatever else is wrong', async () => {
      const res = await post(
        '/validate/not-opted-in',
        review('u-plain', deployment({ 'sidekick.dev/inject': 'db-proxy', 'sidekick.dev/typo': 'x' }), {
          namespace: 'plain',
        }),
      );
      assert.equal(
        res.body,
        answer({
          uid: 'u-plain',
          allowed: true,
          warnings: [
            'namespace plain is not opted in to sidecar injection (it lacks the label sidekick.dev/injection=enabled): the Pods of Deployment plain/web will be created without the sidecars sidekick.dev/inject asks for (db-proxy)',
          ],
        }),
      );
    });
  });

  it('counts its answers by result in /metrics', async () => {
    await post('/validate', review('u-m1', deployment({ 'sidekick.dev/inject': 'db-proxy' })));
    await post('/validate', review('u-m2', deployment({ 'sidekick.dev/inject': 'log-shipper' })));
    const port = t.server.metricsPort;
    assert.ok(port !== undefined);
    const text = await getMetrics(port);
    assert.ok((metricValue(text, 'sidekick_admissions_total{result="denied"}') ?? 0) >= 1, text);
    assert.ok((metricValue(text, 'sidekick_admissions_total{result="checked"}') ?? 0) >= 1, text);
  });

  describe('the templates ConfigMap', () => {
    const configMap = (name: string, data: Record<string, string>): JsonObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'sidekick' },
      data,
    });
    const cm = (uid: string, object: JsonObject): string =>
      JSON.stringify(admissionReview(uid, object, { kind: CONFIGMAP, namespace: 'sidekick' }));

    it('accepts the built-in set', async () => {
      const data = { 'log-shipper.yaml': await readFile(`${builtinTemplateDir()}/log-shipper.yaml`, 'utf8') };
      const res = await post('/validate', cm('u-cm-ok', configMap('sidekick-templates', data)));
      assert.equal(res.body, answer({ uid: 'u-cm-ok', allowed: true }));
    });

    it('denies a bad set with every problem', async () => {
      const bad = {
        'a.yaml':
          'apiVersion: sidekick.dev/v1alpha1\nkind: SidecarTemplate\nmetadata: { name: a }\nspec:\n  description: a\n  requires: [missing]\n  container: { image: x:1 }\n',
        'b.yaml': 'not: [valid',
        'README.md': 'not a template',
      };
      const res = await post('/validate', cm('u-cm-bad', configMap('sidekick-templates', bad)));
      const body = JSON.parse(res.body) as JsonObject;
      assert.ok(isObject(body.response) && isObject(body.response.status));
      assert.equal(body.response.allowed, false);
      const message = typeof body.response.status.message === 'string' ? body.response.status.message : '';
      assert.match(
        message,
        /^ConfigMap sidekick\/sidekick-templates: the sidecar templates are invalid \(2 problems\): /,
      );
      assert.match(message, /data\[a\.yaml\]: spec\.requires: no template named 'missing'/);
      assert.match(message, /data\[b\.yaml\]: YAML: /);
    });

    it('lets other ConfigMaps through', async () => {
      const res = await post('/validate', cm('u-cm-other', configMap('other', { 'a.yaml': 'not: [valid' })));
      assert.equal(res.body, answer({ uid: 'u-cm-other', allowed: true }));
    });
  });
});
