import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ServingCertificate } from '../../src/certs/generate.js';
import type { TlsReload } from '../../src/server/server.js';
import {
  getMetrics,
  inFlight,
  metricValue,
  pod,
  sharedCertificate,
  startTestServer,
  tempDir,
  waitFor,
  type TestServer,
} from './helpers.js';
import { admissionReview } from '../support/admission-review.js';
import { JSON_HEADERS, send } from '../support/https-request.js';
import { loopbackCertificate } from '../support/certificates.js';
import { kubeletSwap } from '../support/kubelet-swap.js';

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

function nextTlsEvent(t: TestServer, accept: (event: TlsReload) => boolean): Promise<TlsReload> {
  return waitFor<TlsReload>(
    (listener) => {
      t.server.events.on('tls', listener);
      return () => t.server.events.off('tls', listener);
    },
    accept,
    10_000,
    'a certificate reload',
  );
}

const review = (uid: string): string =>
  JSON.stringify(admissionReview(uid, pod('web'), { operation: 'UPDATE' }));
const allowedBody = (uid: string): string =>
  `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"${uid}","allowed":true}}`;

describe('certificate files swapped through ..data while requests are in flight', () => {
  let t: TestServer;
  let dir: { path: string; remove: () => Promise<void> };
  let first: ServingCertificate;
  let second: ServingCertificate;
  let third: ServingCertificate;

  before(async () => {
    dir = await tempDir('tls-swap');
    first = await sharedCertificate();
    // Rotation as cert-manager does it: a new serving certificate from the same CA.
    [second, third] = await Promise.all([
      loopbackCertificate({ ca: first.ca }),
      loopbackCertificate({ ca: first.ca }),
    ]);
    const secret = join(dir.path, 'secret');
    await mkdir(secret);
    await kubeletSwap(secret, { 'tls.crt': first.cert, 'tls.key': first.key }, 'gen1');
    const templates = join(dir.path, 'templates');
    await mkdir(templates);
    t = await startTestServer({
      templatesDir: templates,
      tls: { certFile: join(secret, 'tls.crt'), keyFile: join(secret, 'tls.key') },
      debounceMs: 50,
      // Long enough that only the directory watch can explain a reload within the test.
      pollMs: 600_000,
    });
  });
  after(async () => {
    await t.close();
    await dir.remove();
  });

  it('every request succeeds; connections made after the swap get the new certificate', async () => {
    const secret = join(dir.path, 'secret');
    const before = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/healthz' });
    assert.equal(before.certificate, fingerprint(first.cert));

    const pending = Array.from({ length: 6 }, (_, i) => ({
      uid: `u-inflight-${i}`,
      request: inFlight(t.server.port, t.ca, review(`u-inflight-${i}`)),
    }));
    await Promise.all(pending.map((p) => p.request.started));

    // New connections keep coming while the files change.
    const state = { swapping: true };
    const stream: Promise<{ status: number; body: string; uid: string }>[] = [];
    const loop = (async () => {
      for (let i = 0; state.swapping; i++) {
        const uid = `u-stream-${i}`;
        const sent = send(t.server.port, { ca: t.ca, headers: JSON_HEADERS, body: review(uid) }).then(
          (r) => ({ ...r, uid }),
        );
        stream.push(sent);
        await sent;
      }
    })();

    const reloaded = nextTlsEvent(t, (e) => e.ok);
    await kubeletSwap(secret, { 'tls.crt': second.cert, 'tls.key': second.key }, 'gen2');
    const event = await reloaded;
    assert.ok(event.ok && event.material.fingerprint256 === fingerprint(second.cert));
    state.swapping = false;
    await loop;

    for (const { uid, request } of pending) {
      const res = await request.finish();
      assert.equal(res.status, 200);
      assert.equal(res.body, allowedBody(uid));
      assert.equal(res.certificate, fingerprint(first.cert), 'an in-flight connection keeps its certificate');
    }
    const streamed = await Promise.all(stream);
    assert.ok(streamed.length > 0);
    for (const res of streamed) {
      assert.equal(res.status, 200);
      assert.equal(res.body, allowedBody(res.uid));
    }
    const afterSwap = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/healthz' });
    assert.equal(afterSwap.status, 200);
    assert.equal(afterSwap.certificate, fingerprint(second.cert));
    assert.equal(t.server.certificate().fingerprint256, fingerprint(second.cert));
  });

  it('a key that does not match its certificate is rejected and the certificate in use stays', async () => {
    const secret = join(dir.path, 'secret');
    const rejected = nextTlsEvent(t, (e) => !e.ok);
    await kubeletSwap(secret, { 'tls.crt': third.cert, 'tls.key': second.key }, 'gen3');
    const event = await rejected;
    assert.ok(!event.ok);
    assert.match(event.problem, /tls\.key is not the key of the certificate in .*tls\.crt/);
    const res = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/healthz' });
    assert.equal(res.status, 200);
    assert.equal(res.certificate, fingerprint(second.cert));

    const metrics = await getMetrics(t.server.metricsPort!);
    assert.equal(metricValue(metrics, 'sidekick_tls_reloads_total{result="success"}'), 1);
    assert.equal(metricValue(metrics, 'sidekick_tls_reloads_total{result="error"}'), 1);
    assert.equal(
      metricValue(metrics, 'sidekick_tls_certificate_expiry_timestamp_seconds'),
      Date.parse(new X509Certificate(second.cert).validTo) / 1000,
    );
    assert.equal(
      metricValue(metrics, 'sidekick_tls_certificate_not_before_timestamp_seconds'),
      Date.parse(new X509Certificate(second.cert).validFrom) / 1000,
    );
    assert.equal(metricValue(metrics, 'sidekick_tls_last_reload_successful'), 0);

    // The pair made whole again is taken.
    const fixed = nextTlsEvent(t, (e) => e.ok);
    await kubeletSwap(secret, { 'tls.crt': third.cert, 'tls.key': third.key }, 'gen4');
    await fixed;
    assert.equal(
      metricValue(await getMetrics(t.server.metricsPort!), 'sidekick_tls_last_reload_successful'),
      1,
    );
    const now = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/healthz' });
    assert.equal(now.certificate, fingerprint(third.cert));
  });
});

describe('certificate files that filesystem events do not reveal', () => {
  it('are picked up by the poll', async () => {
    const dir = await tempDir('tls-poll');
    const first = await sharedCertificate();
    const second = await loopbackCertificate({ ca: first.ca });
    // The files live elsewhere; the configured paths are symlinks to them, so the watched
    // directory itself never changes.
    const store = join(dir.path, 'store');
    const configured = join(dir.path, 'configured');
    await mkdir(store);
    await mkdir(configured);
    await writeFile(join(store, 'tls.crt'), first.cert);
    await writeFile(join(store, 'tls.key'), first.key);
    await symlink(join(store, 'tls.crt'), join(configured, 'tls.crt'));
    await symlink(join(store, 'tls.key'), join(configured, 'tls.key'));
    const templates = join(dir.path, 'templates');
    await mkdir(templates);
    const t = await startTestServer({
      templatesDir: templates,
      tls: { certFile: join(configured, 'tls.crt'), keyFile: join(configured, 'tls.key') },
      debounceMs: 50,
      pollMs: 200,
    });
    try {
      const reloaded = nextTlsEvent(t, (e) => e.ok);
      // Key first, then certificate, each replaced atomically: for a moment the pair does not match.
      await writeFile(join(store, 'tls.key.new'), second.key);
      await rename(join(store, 'tls.key.new'), join(store, 'tls.key'));
      await writeFile(join(store, 'tls.crt.new'), second.cert);
      await rename(join(store, 'tls.crt.new'), join(store, 'tls.crt'));
      await reloaded;
      const res = await send(t.server.port, { ca: t.ca, method: 'GET', path: '/healthz' });
      assert.equal(res.certificate, fingerprint(second.cert));
    } finally {
      await t.close();
      await dir.remove();
    }
  });
});
