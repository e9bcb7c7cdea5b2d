import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import { isObject } from '../../src/json.js';
import { inFlight, pod, PROBE_TEMPLATE, tempDir } from './helpers.js';
import { admissionReview } from '../support/admission-review.js';
import { send } from '../support/https-request.js';
import { SidekickProcess } from '../support/sidekick-process.js';

function connect(port: number, ca: string): Promise<string> {
  return send(port, { ca, method: 'GET', path: '/healthz' }).then(
    (res) => `answered ${res.status}`,
    (error: unknown) => (error instanceof Error && 'code' in error ? String(error.code) : String(error)),
  );
}

/**
 * New connections end up refused. One that races the listener's close may be reset instead (the
 * kernel completed it just before); none may be served.
 */
async function refusedSoon(port: number, ca: string): Promise<string[]> {
  const outcomes: string[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    const outcome = await connect(port, ca);
    outcomes.push(outcome);
    if (outcome === 'ECONNREFUSED') break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return outcomes;
}

describe('sidekick serve as a real process', () => {
  it('SIGTERM: not ready, stops accepting, closes idle and unused connections, answers every in-flight request, exits 0', async () => {
    const dir = await tempDir('sigterm');
    const templates = join(dir.path, 'templates');
    const certs = join(dir.path, 'certs');
    await mkdir(templates);
    await writeFile(join(templates, 'probe.yaml'), PROBE_TEMPLATE);
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('SIDEKICK_')),
    );
    const serve = SidekickProcess.spawn(
      [
        'serve',
        '--port',
        '0',
        '--metrics-port',
        '0',
        '--certs-dir',
        certs,
        '--templates',
        templates,
        '--shutdown-delay',
        '1',
      ],
      { cwd: dir.path, env },
    );
    const log = serve.log;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const listening = await serve.listening(15_000);
      const port = Number(listening.port);
      assert.ok(port > 0);
      assert.equal(listening.ready, true);
      // With no --tls-cert/--tls-key a CA and serving certificate were made, and the CA's place printed.
      const caFile = join(certs, 'ca.crt');
      assert.match(serve.stderr, new RegExp(`trust its CA ${caFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const ca = await readFile(caFile, 'utf8');

      // An idle keep-alive connection, to be closed by the server.
      const idle = await new Promise<Socket>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/healthz', ca, agent }, (res) => {
          const socket = res.socket;
          res.resume();
          res.on('end', () => {
            resolve(socket);
          });
        }).on('error', reject);
      });
      const idleClosed = new Promise<void>((resolve) =>
        idle.once('close', () => {
          resolve();
        }),
      );

      // A spare connection, as Go's HTTP client (the apiserver's) dials and keeps: TLS, never a
      // request. Node does not count it as idle; the server must close it all the same.
      const spare = await new Promise<TLSSocket>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
          resolve(socket);
        });
        socket.once('error', reject);
      });
      const spareClosed = new Promise<void>((resolve) =>
        spare.once('close', () => {
          resolve();
        }),
      );

      const pending = Array.from({ length: 5 }, (_, i) => {
        const uid = `u-sigterm-${i}`;
        const body = JSON.stringify(
          admissionReview(uid, pod(`web-${i}`, { 'sidekick.dev/inject': 'probe' })),
        );
        return { uid, request: inFlight(port, ca, body) };
      });
      await Promise.all(pending.map((p) => p.request.started));

      assert.ok(serve.signal('SIGTERM'));
      await log.logged('shutting down: not ready');
      const notReady = await send(port, { ca, method: 'GET', path: '/readyz' });
      assert.equal(notReady.status, 503);
      assert.equal(notReady.body, 'not ready: shutting down');

      await log.logged('draining: no new connections, finishing in-flight requests');
      const outcomes = await refusedSoon(port, ca);
      assert.equal(outcomes.at(-1), 'ECONNREFUSED', outcomes.join(', '));
      assert.ok(
        outcomes.every((o) => o === 'ECONNREFUSED' || o === 'ECONNRESET'),
        outcomes.join(', '),
      );
      await idleClosed;
      await spareClosed;

      for (const { uid, request } of pending) {
        const res = await request.finish();
        assert.equal(res.status, 200);
        assert.equal(res.headers.connection, 'close');
        const review: unknown = JSON.parse(res.body);
        assert.ok(isObject(review) && isObject(review.response));
        assert.equal(review.response.uid, uid);
        assert.equal(review.response.allowed, true);
        assert.equal(review.response.patchType, 'JSONPatch');
      }

      assert.deepEqual(await serve.exited, { code: 0, signal: null });
      await log.logged('stopped');
      const admissions = log.lines.filter((line) => line.msg === 'admission');
      assert.deepEqual(admissions.map((line) => line.uid).sort(), pending.map((p) => p.uid).sort());
      assert.ok(admissions.every((line) => line.decision === 'injected'));
    } finally {
      agent.destroy();
      await serve.kill();
      await dir.remove();
    }
  });
});
