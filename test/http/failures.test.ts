import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateServingCertificate } from '../../src/certs/generate.js';
import { handleReview } from '../../src/admission/index.js';
import { isObject } from '../../src/json.js';
import {
  inFlight,
  pod,
  PROBE_TEMPLATE,
  sharedCertificate,
  startTestServer,
  statusJson,
  tempDir,
  type TestServer,
} from './helpers.js';
import { admissionReview } from '../support/admission-review.js';
import { JSON_HEADERS, send } from '../support/https-request.js';
import { writeCertificate } from '../support/certificates.js';

describe('when the core fails', () => {
  let t: TestServer;
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => {
    dir = await tempDir('failing-core');
    await writeFile(join(dir.path, 'probe.yaml'), PROBE_TEMPLATE);
    t = await startTestServer({
      templatesDir: dir.path,
      inject: () => {
        throw new Error('boom in the core');
      },
    });
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  it('an exception becomes a review that says what failed, and is logged', async () => {
    const res = await send(t.server.port, {
      ca: t.ca,
      headers: JSON_HEADERS,
      body: JSON.stringify(admissionReview('u-boom', pod('web', { 'sidekick.dev/inject': 'probe' }))),
    });
    assert.equal(res.status, 200);
    assert.equal(
      res.body,
      '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-boom","allowed":false,"status":{"code":500,"message":"internal error: boom in the core"}}}',
    );
    const line = t.logs().find((l) => l.uid === 'u-boom');
    assert.ok(line);
    assert.equal(line.level, 50);
    assert.equal(line.decision, 'errored');
    assert.ok(isObject(line.err));
    assert.equal(line.err.message, 'boom in the core');
  });
});

describe('the handler on its own', () => {
  it('an exception before the uid is known is a 500 with the reason, never a throw', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('getter exploded');
        },
        getPrototypeOf() {
          return Object.prototype;
        },
        has() {
          return true;
        },
        getOwnPropertyDescriptor() {
          throw new Error('getter exploded');
        },
      },
    );
    const handled = handleReview(hostile, { templates: () => undefined });
    assert.deepEqual(
      { status: handled.status, message: 'message' in handled ? handled.message : undefined },
      { status: 500, message: 'internal error: getter exploded' },
    );
    assert.equal(handled.record.decision, 'errored');
  });
});

describe('before any template set has loaded', () => {
  let t: TestServer;
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => {
    dir = await tempDir('no-templates');
    t = await startTestServer({ templatesDir: dir.path });
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  it('/readyz is 503 and says why', async () => {
    const res = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/readyz' });
    assert.equal(res.status, 503);
    assert.equal(res.body, 'not ready: no valid templates loaded');
  });

  it('a Pod CREATE gets a review refusing with 503; other requests are still allowed', async () => {
    const create = await send(t.server.port, {
      ca: t.ca,
      headers: JSON_HEADERS,
      body: JSON.stringify(admissionReview('u-early', pod('web'))),
    });
    assert.equal(
      create.body,
      '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-early","allowed":false,"status":{"code":503,"message":"no valid sidecar templates are loaded yet"}}}',
    );
    const update = await send(t.server.port, {
      ca: t.ca,
      headers: JSON_HEADERS,
      body: JSON.stringify(admissionReview('u-early-update', pod('web'), { operation: 'UPDATE' })),
    });
    assert.equal(
      update.body,
      '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-early-update","allowed":true}}',
    );
  });
});

describe('readiness while shutting down', () => {
  it('turns false at once, while an in-flight request still gets its answer', async () => {
    const dir = await tempDir('shutdown-ready');
    await writeFile(join(dir.path, 'probe.yaml'), PROBE_TEMPLATE);
    const t = await startTestServer({ templatesDir: dir.path });
    try {
      assert.deepEqual(t.server.readiness(), { ready: true, reasons: [] });
      const pending = inFlight(t.server.port, t.ca, JSON.stringify(admissionReview('u-drain', pod('web'))));
      await pending.started;
      const stopped = t.server.shutdown({ deadlineMs: 5000 });
      assert.deepEqual(t.server.readiness(), { ready: false, reasons: ['shutting down'] });
      const res = await pending.finish();
      assert.equal(res.status, 200);
      assert.equal(res.headers.connection, 'close');
      assert.deepEqual(JSON.parse(res.body), {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: 'u-drain', allowed: true },
      });
      assert.deepEqual(await stopped, { forced: false });
    } finally {
      await t.close();
      await dir.remove();
    }
  });
});

describe('with --client-ca', () => {
  let t: TestServer;
  let dir: { path: string; remove: () => Promise<void> };
  let client: { cert: string; key: string };
  before(async () => {
    dir = await tempDir('client-ca');
    await writeFile(join(dir.path, 'probe.yaml'), PROBE_TEMPLATE);
    const serving = await sharedCertificate();
    const issued = await generateServingCertificate({
      dnsNames: ['kube-apiserver'],
      usage: 'client',
      days: 1,
    });
    client = { cert: issued.cert, key: issued.key };
    const files = await writeCertificate(dir.path, serving);
    const clientCaFile = join(dir.path, 'client-ca.crt');
    await writeFile(clientCaFile, issued.ca.cert);
    t = await startTestServer({ templatesDir: dir.path, tls: { ...files, clientCaFile } });
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  it('/mutate needs a client certificate from that CA; /healthz does not', async () => {
    const body = JSON.stringify(admissionReview('u-mtls', pod('web')));
    const anonymous = await send(t.server.port, { ca: t.ca, headers: JSON_HEADERS, body });
    assert.equal(anonymous.status, 401);
    assert.equal(
      anonymous.body,
      statusJson(401, 'Unauthorized', 'a client certificate issued by the configured client CA is required'),
    );
    const health = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/healthz' });
    assert.equal(health.status, 200);
    const { Agent } = await import('node:https');
    const agent = new Agent({ cert: client.cert, key: client.key, ca: t.ca });
    try {
      const authorized = await send(t.server.port, { ca: t.ca, headers: JSON_HEADERS, body, agent });
      assert.equal(authorized.status, 200);
      assert.equal(
        authorized.body,
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-mtls","allowed":true}}',
      );
    } finally {
      agent.destroy();
    }
  });
});
