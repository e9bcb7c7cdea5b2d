import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { WatchAgent } from '../../src/watch/agent.js';
import { KubeletDir, tempDir, waitFor } from './helpers.js';

void describe('WatchAgent without file events (filesystems where inotify is missing)', () => {
  void test('the periodic rescan alone sees a ..data swap and reloads once', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const config = KubeletDir.create({ 'app.conf': 'v1' }, root);
    let posts = 0;
    const server: Server = createServer((req, res) => {
      posts++;
      req.resume();
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const agent = new WatchAgent(
      {
        dirs: [config.path],
        mode: { kind: 'http', url: new URL(`http://127.0.0.1:${address.port}/reload`) },
        debounceMs: 50,
        jitterMs: 0,
        rescanMs: 100,
        healthPort: undefined,
        healthAddress: undefined,
      },
      { logger: pino({ level: 'info' }, sink), selfPid: process.pid, selfUid: undefined, fsEvents: false },
    );
    t.after(() => agent.stop());
    await agent.start();
    assert.equal(agent.ready, true);
    assert.ok(
      lines.some((l) => l.includes('"fsEvents":[]')),
      'no file watchers attached',
    );

    config.write({ 'app.conf': 'v2' });
    await waitFor('the reload POST', () => posts === 1);
    assert.ok(lines.some((l) => l.includes('reloading the app')));
    // A swap to identical content: several rescan periods later, still one POST.
    config.write({ 'app.conf': 'v2' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(posts, 1, 'a no-op swap found by the rescan reloads nothing');
    await agent.stop();
  });
});
