import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { after, before, describe, it } from 'node:test';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { isObject, type JsonObject } from '../../src/json.js';
import { builtinTemplateDir } from '../../src/templates/load.js';
import { getMetrics, metricValue, pod, startTestServer, statusJson, type TestServer } from './helpers.js';
import { admissionReview } from '../support/admission-review.js';
import { JSON_HEADERS, send } from '../support/https-request.js';

const MiB = 1024 * 1024;
const LIMIT = 7 * MiB;

function json(text: string): JsonObject {
  const value: unknown = JSON.parse(text);
  assert.ok(isObject(value), `expected a JSON object, got ${text.slice(0, 200)}`);
  return value;
}

function decodePatch(review: JsonObject): Operation[] {
  const response = review.response;
  assert.ok(isObject(response));
  const patch = response.patch;
  assert.ok(typeof patch === 'string', 'the patch is a base64 string');
  return JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as Operation[];
}

describe('POST /mutate over HTTPS', () => {
  let t: TestServer;
  const post = (body: string | Buffer | undefined, headers: Record<string, string | number> = JSON_HEADERS) =>
    send(t.server.port, { ca: t.ca, body, headers });

  before(async () => {
    t = await startTestServer({ templatesDir: builtinTemplateDir() });
  });
  after(async () => {
    await t.close();
  });

  describe('bad input, in the order it is checked', () => {
    it('empty body: 400, even with no content type', async () => {
      for (const headers of [JSON_HEADERS, {}]) {
        const res = await send(t.server.port, { ca: t.ca, headers: { ...headers, 'content-length': 0 } });
        assert.equal(res.status, 400);
        assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(res.body, statusJson(400, 'BadRequest', 'request body is empty'));
      }
    });

    it('empty chunked body: 400', async () => {
      const res = await post('', { ...JSON_HEADERS, 'transfer-encoding': 'chunked' });
      assert.equal(res.status, 400);
      assert.equal(res.body, statusJson(400, 'BadRequest', 'request body is empty'));
    });

    it('wrong or missing content type: 415', async () => {
      const body = JSON.stringify(admissionReview('u-ct', pod('web')));
      const cases: [Record<string, string>, string][] = [
        [
          { 'content-type': 'text/plain' },
          'content type "text/plain" is not supported: expected application/json',
        ],
        [{}, 'content type is missing: expected application/json'],
        [
          { 'content-type': 'application/json; charset=latin1' },
          'content type "application/json; charset=latin1" is not supported: expected application/json in UTF-8',
        ],
      ];
      for (const [headers, message] of cases) {
        const res = await post(body, headers);
        assert.equal(res.status, 415, message);
        assert.equal(res.body, statusJson(415, 'UnsupportedMediaType', message));
      }
    });

    it('accepts application/json with a UTF-8 charset, in any case', async () => {
      const body = JSON.stringify(admissionReview('u-charset', pod('web'), { operation: 'DELETE' }));
      const res = await post(body, { 'content-type': 'Application/JSON; charset="UTF-8"' });
      assert.equal(res.status, 200);
      assert.equal(
        res.body,
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-charset","allowed":true}}',
      );
    });

    it('a 12 MiB body: 413 (declared length and chunked), and the connection stays usable', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: t.ca });
      try {
        const big = Buffer.alloc(12 * MiB, 0x20);
        const message = `request body is larger than the limit of ${LIMIT} bytes`;
        const declared = await send(t.server.port, { ca: t.ca, agent, body: big, headers: JSON_HEADERS });
        assert.equal(declared.status, 413);
        assert.equal(declared.body, statusJson(413, 'RequestEntityTooLarge', message));
        const chunked = await send(t.server.port, {
          ca: t.ca,
          agent,
          body: big,
          headers: { ...JSON_HEADERS, 'transfer-encoding': 'chunked' },
        });
        assert.equal(chunked.status, 413);
        assert.equal(chunked.body, statusJson(413, 'RequestEntityTooLarge', message));
        const next = await send(t.server.port, {
          ca: t.ca,
          agent,
          body: JSON.stringify(admissionReview('u-after-413', pod('web'), { operation: 'DELETE' })),
          headers: JSON_HEADERS,
        });
        assert.equal(next.status, 200);
        assert.equal(json(next.body).response !== undefined, true);
      } finally {
        agent.destroy();
      }
    });

    it('a body of exactly the limit is read (and judged on its content)', async () => {
      const review = JSON.stringify(admissionReview('u-limit', pod('web'), { operation: 'DELETE' }));
      const body = review + ' '.repeat(LIMIT - Buffer.byteLength(review));
      const res = await post(body);
      assert.equal(res.status, 200);
      assert.equal(json(res.body).kind, 'AdmissionReview');
    });

    it('the content type is checked before the size', async () => {
      const res = await post(Buffer.alloc(12 * MiB, 0x20), { 'content-type': 'text/plain' });
      assert.equal(res.status, 415);
    });

    it('invalid JSON: 400', async () => {
      for (const body of ['{"apiVersion":', 'not json', '{"a":1}}']) {
        const res = await post(body);
        assert.equal(res.status, 400, body);
        assert.equal(res.body, statusJson(400, 'BadRequest', 'request body is not valid JSON'));
      }
    });

    it('invalid UTF-8: 400', async () => {
      const review = JSON.stringify(admissionReview('u-utf8', pod('web')));
      const at = review.indexOf('registry.example');
      const body = Buffer.concat([
        Buffer.from(review.slice(0, at)),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from(review.slice(at)),
      ]);
      const res = await post(body);
      assert.equal(res.status, 400);
      assert.equal(res.body, statusJson(400, 'BadRequest', 'request body is not valid UTF-8'));
    });

    it('not an AdmissionReview: 400 naming what is wrong', async () => {
      const v1beta1 = { ...admissionReview('u-beta', pod('web')), apiVersion: 'admission.k8s.io/v1beta1' };
      const cases: [unknown, string][] = [
        [[], 'request body is not an AdmissionReview: expected a JSON object'],
        ['AdmissionReview', 'request body is not an AdmissionReview: expected a JSON object'],
        [pod('web'), 'request body is not an AdmissionReview: kind is "Pod"'],
        [{ apiVersion: 'admission.k8s.io/v1' }, 'request body is not an AdmissionReview: kind is missing'],
        [
          v1beta1,
          'AdmissionReview apiVersion "admission.k8s.io/v1beta1" is not supported: expected admission.k8s.io/v1',
        ],
        [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 'AdmissionReview has no request'],
        [
          { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: [] },
          'AdmissionReview has no request',
        ],
      ];
      for (const [body, message] of cases) {
        const res = await post(JSON.stringify(body));
        assert.equal(res.status, 400, message);
        assert.equal(res.body, statusJson(400, 'BadRequest', message));
      }
    });

    it('missing uid: 400', async () => {
      for (const uid of [undefined, '', 42]) {
        const review = admissionReview('x', pod('web'));
        const request = review.request as JsonObject;
        if (uid === undefined) delete request.uid;
        else request.uid = uid;
        const res = await post(JSON.stringify(review));
        assert.equal(res.status, 400);
        assert.equal(res.body, statusJson(400, 'BadRequest', 'AdmissionReview request has no uid'));
      }
    });

    it('object not a Pod: a review that refuses with code 400', async () => {
      const cases: (JsonObject | string | null)[] = [
        'a string',
        null,
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } },
      ];
      for (const object of cases) {
        const res = await post(JSON.stringify(admissionReview('u-not-pod', object)));
        assert.equal(res.status, 200);
        assert.equal(
          res.body,
          '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-not-pod","allowed":false,"status":{"code":400,"message":"request.object is not a Pod"}}}',
        );
      }
    });

    it('a malformed request with a uid: a review that refuses with code 400', async () => {
      const res = await post(JSON.stringify(admissionReview('u-bad-op', pod('web'), { operation: 7 })));
      assert.equal(res.status, 200);
      assert.deepEqual(json(res.body), {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: {
          uid: 'u-bad-op',
          allowed: false,
          status: { code: 400, message: 'request.operation must be a string, got 7' },
        },
      });
    });

    it('a deeply nested object: refused with code 400, not a crash', async () => {
      const depth = 100_000;
      const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const review = JSON.stringify(
        admissionReview('u-deep', pod('web', { 'sidekick.dev/inject': 'log-shipper' })),
      );
      const body = review.replace('"spec":{', `"spec":{"extra":${nested},`);
      const res = await post(body);
      assert.equal(res.status, 200);
      assert.equal(
        res.body,
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-deep","allowed":false,"status":{"code":400,"message":"request.object is nested deeper than 64 levels"}}}',
      );
      // Deep nesting outside the object is never walked: answered on its merits.
      const elsewhere = JSON.stringify(
        admissionReview('u-deep-options', pod('web'), { operation: 'DELETE' }),
      ).replace('"options":{', `"options":{"extra":${nested},`);
      const other = await post(elsewhere);
      assert.equal(other.status, 200);
      assert.deepEqual(json(other.body).response, { uid: 'u-deep-options', allowed: true });
    });
  });

  describe('requests that are not injected', () => {
    it('operations other than CREATE are allowed unchanged', async () => {
      for (const operation of ['UPDATE', 'DELETE', 'CONNECT']) {
        const object = pod('web', { 'sidekick.dev/inject': 'log-shipper' });
        const res = await post(JSON.stringify(admissionReview(`u-${operation}`, object, { operation })));
        assert.equal(res.status, 200);
        assert.deepEqual(json(res.body), {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: `u-${operation}`, allowed: true },
        });
      }
    });

    it('objects other than Pods, and Pod subresources, are allowed unchanged', async () => {
      const deployment = admissionReview(
        'u-deploy',
        { apiVersion: 'apps/v1', kind: 'Deployment' },
        {
          kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        },
      );
      const binding = admissionReview(
        'u-binding',
        { apiVersion: 'v1', kind: 'Binding' },
        {
          kind: { group: '', version: 'v1', kind: 'Binding' },
          subResource: 'binding',
        },
      );
      for (const review of [deployment, binding]) {
        const res = await post(JSON.stringify(review));
        assert.equal(res.status, 200);
        const request = review.request as JsonObject;
        assert.deepEqual(json(res.body).response, { uid: request.uid, allowed: true });
      }
    });
  });

  describe('a v1 review round trip with the built-in templates', () => {
    const asked = () => pod('web', { 'sidekick.dev/inject': 'log-shipper' });

    it('answers with the same apiVersion and uid, a base64 JSONPatch, warnings and audit annotations', async () => {
      const input = asked();
      const res = await post(JSON.stringify(admissionReview('7f0b2c1e-round-trip', input)));
      assert.equal(res.status, 200);
      const review = json(res.body);
      assert.equal(review.apiVersion, 'admission.k8s.io/v1');
      assert.equal(review.kind, 'AdmissionReview');
      const response = review.response;
      assert.ok(isObject(response));
      assert.equal(response.uid, '7f0b2c1e-round-trip');
      assert.equal(response.allowed, true, JSON.stringify(response.status));
      assert.equal(response.patchType, 'JSONPatch');
      assert.deepEqual(response.auditAnnotations, { sidecars: 'log-shipper' });
      assert.ok(response.warnings === undefined || Array.isArray(response.warnings));

      const patched = fastJsonPatch.applyPatch(
        structuredClone(input),
        decodePatch(review),
        true,
        false,
      ).newDocument;
      const spec = patched.spec as JsonObject;
      const init = spec.initContainers as JsonObject[];
      assert.equal(init.length, 1);
      const sidecar = init[0]!;
      assert.equal(sidecar.name, 'log-shipper');
      assert.equal(sidecar.restartPolicy, 'Always');
      const app = (spec.containers as JsonObject[])[0]!;
      assert.equal(app.image, 'registry.example/app:1.0');

      // The injected Pod again: nothing to change, so no patch at all.
      const again = await post(JSON.stringify(admissionReview('7f0b2c1e-again', patched)));
      assert.equal(again.status, 200);
      const second = json(again.body).response;
      assert.ok(isObject(second));
      assert.equal(second.allowed, true);
      assert.equal(second.patch, undefined);
      assert.equal(second.patchType, undefined);
    });

    it('dryRun gets the same answer and counts no injected sidecar', async () => {
      const before =
        metricValue(
          await getMetrics(t.server.metricsPort!),
          'sidekick_sidecars_injected_total{sidecar="log-shipper"}',
        ) ?? 0;
      const wet = json((await post(JSON.stringify(admissionReview('same-uid', asked())))).body);
      const mid = metricValue(
        await getMetrics(t.server.metricsPort!),
        'sidekick_sidecars_injected_total{sidecar="log-shipper"}',
      );
      assert.equal(mid, before + 1);
      const dry = json(
        (await post(JSON.stringify(admissionReview('same-uid', asked(), { dryRun: true })))).body,
      );
      assert.deepEqual(dry, wet);
      const after = metricValue(
        await getMetrics(t.server.metricsPort!),
        'sidekick_sidecars_injected_total{sidecar="log-shipper"}',
      );
      assert.equal(after, before + 1);
      const line = t.logs().find((l) => l.msg === 'admission' && l.uid === 'same-uid' && l.dryRun === true);
      assert.ok(line, 'the dry run is logged as one');
    });

    it('an unknown sidecar is refused with code 400 and a message naming the annotation', async () => {
      const res = await post(
        JSON.stringify(
          admissionReview('u-unknown', pod('web', { 'sidekick.dev/inject': 'no-such-sidecar' })),
        ),
      );
      assert.equal(res.status, 200);
      const response = json(res.body).response;
      assert.ok(isObject(response));
      assert.equal(response.allowed, false);
      assert.ok(isObject(response.status));
      assert.equal(response.status.code, 400);
      const message = response.status.message;
      assert.ok(typeof message === 'string');
      assert.match(message, /sidekick\.dev\/inject/);
      assert.match(message, /no-such-sidecar/);
    });

    it('logs one line per admission without the Pod body', async () => {
      const generated = pod('', { 'sidekick.dev/inject': 'log-shipper' });
      const metadata = generated.metadata as JsonObject;
      delete metadata.name;
      metadata.generateName = 'web-7d9f5c-';
      await post(JSON.stringify(admissionReview('u-log', generated)));
      const lines = t.logs().filter((l) => l.uid === 'u-log');
      assert.equal(lines.length, 1);
      const line = lines[0]!;
      assert.equal(line.msg, 'admission');
      assert.equal(line.level, 30);
      assert.equal(line.namespace, 'team-a');
      assert.equal(line.name, 'web-7d9f5c-');
      assert.equal(line.decision, 'injected');
      assert.deepEqual(line.sidecars, ['log-shipper']);
      assert.equal(typeof line.durationMs, 'number');
      assert.doesNotMatch(JSON.stringify(line), /registry\.example\/app/);
    });
  });

  describe('other routes', () => {
    it('GET /mutate: 405 with Allow: POST', async () => {
      const res = await send(t.server.port, { ca: t.ca, method: 'GET' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'POST');
      assert.equal(res.body, statusJson(405, 'MethodNotAllowed', 'use POST with an AdmissionReview'));
    });

    it('unknown path: 404', async () => {
      const res = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/nope' });
      assert.equal(res.status, 404);
      assert.equal(res.body, statusJson(404, 'NotFound', 'no route for GET /nope'));
    });

    it('/healthz and /readyz', async () => {
      const health = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/healthz' });
      assert.equal(health.status, 200);
      assert.equal(health.body, 'ok');
      const ready = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/readyz' });
      assert.equal(ready.status, 200);
      assert.equal(ready.body, 'ok');
    });

    it('/metrics on the metrics port', async () => {
      const text = await getMetrics(t.server.metricsPort!);
      assert.ok((metricValue(text, 'sidekick_admissions_total{result="invalid"}') ?? 0) > 0);
      assert.ok((metricValue(text, 'sidekick_admissions_total{result="injected"}') ?? 0) > 0);
      assert.ok((metricValue(text, 'sidekick_admissions_total{result="ignored"}') ?? 0) > 0);
      assert.ok(
        metricValue(text, 'sidekick_admission_duration_seconds_bucket{le="0.0005",result="ignored"}') !==
          undefined,
      );
      assert.equal(metricValue(text, 'sidekick_template_reloads_total{result="success"}'), 1);
      assert.equal(metricValue(text, 'sidekick_templates_loaded'), t.server.templates()?.templates.size);
      assert.equal(
        metricValue(text, 'sidekick_tls_certificate_expiry_timestamp_seconds'),
        t.server.certificate().notAfter.getTime() / 1000,
      );
    });
  });
});
