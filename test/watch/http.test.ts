import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/log.js';
import { HttpNotifier } from '../../src/watch/http-notifier.js';
import { AgentProcess, KubeletDir, tempDir, waitFor } from './helpers.js';

interface Seen {
  method: string;
  url: string;
}

/** A real reload endpoint on loopback; `respond` decides per request (by 1-based index). */
async function reloadServer(
  respond: (index: number, req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    respond(seen.length, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  const { port } = address;
  return { server, url: `http://127.0.0.1:${port}/-/reload`, seen };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}

const change = { added: [], removed: [], modified: ['/etc/app/app.conf'] };

void describe('sidekick watch --url (real agent, real HTTP server)', () => {
  void test('a reload endpoint that fails at first gets the reload after retries with backoff', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const config = KubeletDir.create({ 'prometheus.yml': 'scrape_interval: 15s\n' }, root);
    // 1: connection reset, 2: 503, 3: 404, then 200.
    const { server, url, seen } = await reloadServer((index, req, res) => {
      if (index === 1) req.socket.destroy();
      else if (index === 2) res.writeHead(503).end('starting');
      else if (index === 3) res.writeHead(404).end('no such endpoint yet');
      else res.writeHead(200).end('reloaded');
    });
    t.after(() => closeServer(server));
    const agent = await AgentProcess.start([
      '--dir',
      config.path,
      '--url',
      url,
      '--debounce',
      '200ms',
      '--jitter',
      '300ms',
    ]);
    t.after(() => agent.stop());

    config.write({ 'prometheus.yml': 'scrape_interval: 30s\n' });
    const delivered = await agent.waitForLog('reload notification delivered');
    assert.equal(delivered.attempts, 4);
    assert.equal(delivered.status, 200);
    assert.equal(seen.length, 4);
    assert.ok(seen.every((s) => s.method === 'POST' && s.url === '/-/reload'));

    const retries = agent.logs.filter((l) => l.msg.includes('will retry'));
    assert.deepEqual(
      retries.map((l) => [l.attempt, l.status]),
      [
        [1, undefined],
        [2, 503],
        [3, 404],
      ],
    );
    // Capped exponential backoff with jitter: retry n waits within [base·2^(n-1)/2, base·2^(n-1)].
    retries.forEach((l, i) => {
      const ceiling = 250 * 2 ** i;
      assert.ok(typeof l.retryInMs === 'number' && l.retryInMs >= ceiling / 2 && l.retryInMs <= ceiling);
    });
    // The jitter delay that preceded the notification was drawn from [0, 300ms].
    const scheduled = await agent.waitForLog('content changed; reload in');
    assert.ok(typeof scheduled.delayMs === 'number' && scheduled.delayMs >= 0 && scheduled.delayMs <= 300);

    // Still running, and the next change is one request.
    config.write({ 'prometheus.yml': 'scrape_interval: 60s\n' });
    await waitFor('the second reload', () => seen.length === 5);
    await sleep(800);
    assert.equal(seen.length, 5);
    assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  });

  void test('a newer change supersedes the retries of an older one; a hung endpoint times out and is retried', async (t) => {
    let healthy = false;
    const hung: ServerResponse[] = [];
    const { server, url, seen } = await reloadServer((index, _req, res) => {
      if (index === 1)
        hung.push(res); // never answered
      else res.writeHead(healthy ? 204 : 500).end();
    });
    t.after(() => closeServer(server));
    const notifier = new HttpNotifier({
      url: new URL(url),
      logger: createLogger('silent'),
      backoff: { initialMs: 20, maxMs: 80 },
      timeoutMs: 300,
    });
    t.after(() => {
      notifier.close();
    });

    const first = notifier.notify(change);
    await waitFor('a timed-out attempt and then failing retries', () => seen.length >= 4);
    assert.equal(hung.length, 1);
    healthy = true;
    const second = notifier.notify({ ...change, modified: ['/etc/app/other.conf'] });
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.delivered, false);
    assert.ok(a.attempts >= 3);
    assert.deepEqual(b, { delivered: true, attempts: 1, status: 204 });
    const total = seen.length;
    await sleep(300);
    assert.equal(seen.length, total, 'the superseded loop stopped retrying');
  });

  void test('close() stops a retry loop that would otherwise never end', async (t) => {
    const { server, url, seen } = await reloadServer((_index, _req, res) => {
      res.writeHead(502).end();
    });
    t.after(() => closeServer(server));
    const notifier = new HttpNotifier({
      url: new URL(url),
      logger: createLogger('silent'),
      backoff: { initialMs: 10, maxMs: 40 },
    });
    const pending = notifier.notify(change);
    await waitFor('several failed attempts', () => seen.length >= 3);
    notifier.close();
    assert.equal((await pending).delivered, false);
    const total = seen.length;
    await sleep(200);
    assert.equal(seen.length, total);
  });
});
