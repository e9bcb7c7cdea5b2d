import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { isObject, type JsonObject } from '../../src/json.js';
import { inFlight, pod, tempDir } from './helpers.js';
import { admissionReview } from '../support/admission-review.js';
import { send } from '../support/https-request.js';
import { SIDEKICK_MAIN } from '../support/paths.js';

const PROBE_TEMPLATE = `apiVersion: sidekick.dev/v1alpha1
kind: SidecarTemplate
metadata:
  name: probe
spec:
  description: a sidecar for tests
  container:
    image: registry.example/probe:1
`;

/** Every JSON log line the child writes, and a way to wait for one. */
function logLines(child: ChildProcess): {
  lines: JsonObject[];
  next: (msg: string, ms?: number) => Promise<JsonObject>;
} {
  const lines: JsonObject[] = [];
  const waiters: { msg: string; resolve: (line: JsonObject) => void }[] = [];
  assert.ok(child.stdout);
  createInterface({ input: child.stdout }).on('line', (text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (!isObject(parsed)) return;
    lines.push(parsed);
    for (const waiter of waiters.splice(0)) {
      if (parsed.msg === waiter.msg) waiter.resolve(parsed);
      else waiters.push(waiter);
    }
  });
  const next = (msg: string, ms = 15_000): Promise<JsonObject> => {
    const seen = lines.find((line) => line.msg === msg);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no log line "${msg}" within ${ms} ms; got:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`,
          ),
        );
      }, ms);
      waiters.push({
        msg,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  };
  return { lines, next };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
}

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
  it('SIGTERM: not ready, stops accepting, closes idle connections, answers every in-flight request, exits 0', async () => {
    const dir = await tempDir('sigterm');
    const templates = join(dir.path, 'templates');
    const certs = join(dir.path, 'certs');
    await mkdir(templates);
    await writeFile(join(templates, 'probe.yaml'), PROBE_TEMPLATE);
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('SIDEKICK_')),
    );
    const child = spawn(
      process.execPath,
      [
        SIDEKICK_MAIN,
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
      { cwd: dir.path, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const log = logLines(child);
      const listening = await log.next('listening');
      const port = Number(listening.port);
      assert.ok(port > 0);
      assert.equal(listening.ready, true);
      // With no --tls-cert/--tls-key a CA and serving certificate were made, and the CA's place printed.
      const caFile = join(certs, 'ca.crt');
      assert.match(stderr, new RegExp(`trust its CA ${caFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
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

      const pending = Array.from({ length: 5 }, (_, i) => {
        const uid = `u-sigterm-${i}`;
        const body = JSON.stringify(
          admissionReview(uid, pod(`web-${i}`, { 'sidekick.dev/inject': 'probe' })),
        );
        return { uid, request: inFlight(port, ca, body) };
      });
      await Promise.all(pending.map((p) => p.request.started));

      assert.ok(child.kill('SIGTERM'));
      await log.next('shutting down: not ready');
      const notReady = await send(port, { ca, method: 'GET', path: '/readyz' });
      assert.equal(notReady.status, 503);
      assert.equal(notReady.body, 'not ready: shutting down');

      await log.next('draining: no new connections, finishing in-flight requests');
      const outcomes = await refusedSoon(port, ca);
      assert.equal(outcomes.at(-1), 'ECONNREFUSED', outcomes.join(', '));
      assert.ok(
        outcomes.every((o) => o === 'ECONNREFUSED' || o === 'ECONNRESET'),
        outcomes.join(', '),
      );
      await idleClosed;

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

      assert.deepEqual(await exited(child), { code: 0, signal: null });
      await log.next('stopped');
      const admissions = log.lines.filter((line) => line.msg === 'admission');
      assert.deepEqual(admissions.map((line) => line.uid).sort(), pending.map((p) => p.uid).sort());
      assert.ok(admissions.every((line) => line.decision === 'injected'));
    } finally {
      agent.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited(child);
      await dir.remove();
    }
  });
});
