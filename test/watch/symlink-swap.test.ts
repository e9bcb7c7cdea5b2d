import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { WatchAgent } from '../../src/watch/agent.js';
import { tempDir, waitFor } from './helpers.js';

/**
 * A checkout as git-sync v4 publishes it: each commit in `.worktrees/<commit>`, and the link
 * `current` → `.worktrees/<commit>` (relative), replaced by renaming a new link over it.
 */
class Checkout {
  constructor(readonly root: string) {}

  get link(): string {
    return join(this.root, 'current');
  }

  publish(commit: string, files: Record<string, string>): void {
    const worktree = join(this.root, '.worktrees', commit);
    mkdirSync(worktree, { recursive: true });
    writeFileSync(join(worktree, '.git'), `gitdir: ${this.root}/.git/worktrees/${commit}\n`);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(worktree, name), content);
    symlinkSync(join('.worktrees', commit), join(this.root, 'tmp-link'));
    renameSync(join(this.root, 'tmp-link'), this.link);
  }
}

void describe('WatchAgent on a symlink that is swapped to a new directory (git-sync --link)', () => {
  void test('a swap reloads at once, from file events, while the old target stays as it was', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const checkout = new Checkout(root);
    checkout.publish('aaaa', { 'app.conf': 'v1' });
    const posts: number[] = [];
    const server: Server = createServer((req, res) => {
      posts.push(Date.now());
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
        dirs: [checkout.link],
        mode: { kind: 'http', url: new URL(`http://127.0.0.1:${address.port}/reload`) },
        debounceMs: 50,
        jitterMs: 0,
        // Far beyond the test: only file events can find the swap in time.
        rescanMs: 3_600_000,
        healthPort: undefined,
        healthAddress: undefined,
      },
      { logger: pino({ level: 'info' }, sink), selfPid: process.pid, selfUid: undefined },
    );
    t.after(() => agent.stop());
    await agent.start();
    assert.equal(agent.ready, true);
    assert.ok(
      lines.some((l) => l.includes(JSON.stringify(root))),
      `the link's parent is watched: ${lines.join('')}`,
    );

    // The old worktree is not touched (git-sync may keep it: --stale-worktree-timeout).
    const swapped = Date.now();
    checkout.publish('bbbb', { 'app.conf': 'v2' });
    await waitFor('the reload POST after the first swap', () => posts.length === 1, 5_000);
    assert.ok(lines.some((l) => l.includes('reloading the app') && l.includes('app.conf')));
    const latency = (posts[0] ?? 0) - swapped;
    assert.ok(latency < 2_000, `reloaded ${latency} ms after the swap`);

    // And again: the watchers followed the link to its new target.
    checkout.publish('cccc', { 'app.conf': 'v3' });
    await waitFor('the reload POST after the second swap', () => posts.length === 2, 5_000);
    // A change in a worktree that is no longer the link's target is none of the app's business.
    writeFileSync(join(root, '.worktrees', 'aaaa', 'app.conf'), 'old');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(posts.length, 2);
    await agent.stop();
  });
});
