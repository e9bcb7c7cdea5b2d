import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess, HupCounter, KubeletDir, tempDir, uniqueProcessName } from './helpers.js';

const DEBOUNCE = '300ms';

void describe('sidekick watch --process (real agent, real app process, real kubelet-style volume)', () => {
  void test('one SIGHUP per effective change; none for a no-op swap; a burst of swaps is one reload', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const config = KubeletDir.create({ 'app.conf': 'v1', 'conf.d/extra.conf': 'x1' }, root);
    const plain = join(root, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'settings.ini'), 'a=1\n');

    const name = uniqueProcessName();
    const app = await HupCounter.start(name);
    t.after(() => app.stop());
    // "--dir DIR…": both directories after one --dir.
    const agent = await AgentProcess.start([
      '--dir',
      config.path,
      plain,
      '--process',
      name,
      '--debounce',
      DEBOUNCE,
    ]);
    t.after(() => agent.stop());
    const watching = await agent.waitForLog('first scan complete');
    assert.deepEqual(watching.dirs, [config.path, plain]);
    assert.equal(watching.files, 3);

    // 1. kubelet publishes new content: new timestamped dir, ..data swapped.
    config.write({ 'app.conf': 'v2', 'conf.d/extra.conf': 'x1' });
    await app.waitForHups(1);
    const sent = await agent.waitForLog('reload signal sent');
    assert.deepEqual(sent.pids, [app.pid]);
    assert.deepEqual(sent.change, { added: [], removed: [], modified: [join(config.path, 'app.conf')] });

    // 2. A swap to a new timestamped dir with identical content: no reload.
    let mark = agent.logs.length;
    config.write({ 'app.conf': 'v2', 'conf.d/extra.conf': 'x1' });
    await agent.waitForLog('content is the same', () => true, mark);
    assert.equal(app.hups, 1);

    // 3. Three swaps back to back (well within the debounce): one reload, for the last content.
    mark = agent.logs.length;
    config.write({ 'app.conf': 'v3', 'conf.d/extra.conf': 'x1' });
    config.write({ 'app.conf': 'v4', 'conf.d/extra.conf': 'x1' });
    config.write({ 'app.conf': 'v5', 'conf.d/extra.conf': 'x1', 'new.conf': 'n' });
    await app.waitForHups(2);
    const burst = await agent.waitForLog('reload signal sent', () => true, mark);
    assert.deepEqual(burst.change, {
      added: [join(config.path, 'new.conf')],
      removed: [],
      modified: [join(config.path, 'app.conf')],
    });

    // 4. A nested key changes, a key goes away.
    mark = agent.logs.length;
    config.write({ 'app.conf': 'v5', 'conf.d/extra.conf': 'x2' });
    await app.waitForHups(3);
    assert.deepEqual((await agent.waitForLog('reload signal sent', () => true, mark)).change, {
      added: [],
      removed: [join(config.path, 'new.conf')],
      modified: [join(config.path, 'conf.d/extra.conf')],
    });

    // 5. emptyDir-style: a plain file written in place.
    writeFileSync(join(plain, 'settings.ini'), 'a=2\n');
    await app.waitForHups(4);

    // 6. The same bytes written again: no reload.
    mark = agent.logs.length;
    writeFileSync(join(plain, 'settings.ini'), 'a=2\n');
    await agent.waitForLog('content is the same', () => true, mark);

    // Quiet for several debounce periods: nothing late, nothing extra.
    await sleep(1200);
    assert.equal(app.hups, 4);
    assert.equal(agent.count('reload signal sent'), 4);

    assert.deepEqual(await agent.stop(), { code: 0, signal: null });
    assert.ok(agent.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
  });

  void test('never signals itself, and an app that is not running yet is a warning, not an exit', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const config = KubeletDir.create({ 'app.conf': 'v1' }, root);
    const name = uniqueProcessName();
    // The agent's own argv[0] is the app's name: if it signalled itself, SIGHUP would kill it.
    const agent = await AgentProcess.start(['--dir', config.path, '--process', name, '--debounce', '100ms'], {
      argv0: name,
    });
    t.after(() => agent.stop());

    config.write({ 'app.conf': 'v2' });
    const warning = await agent.waitForLog(`no process named '${name}'`);
    assert.equal(warning.level, 40);
    assert.equal(await agent.probe('/healthz'), 200);

    const app = await HupCounter.start(name);
    t.after(() => app.stop());
    config.write({ 'app.conf': 'v3' });
    await app.waitForHups(1);
    assert.deepEqual((await agent.waitForLog('reload signal sent')).pids, [app.pid]);
    assert.equal(agent.child.exitCode, null);
    assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  });

  void test('not ready until every directory can be read; /healthz answers all along', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const dir = join(root, 'not-yet');
    const agent = await AgentProcess.start(
      ['--dir', dir, '--process', uniqueProcessName(), '--rescan-interval', '100ms'],
      { waitReady: false },
    );
    t.after(() => agent.stop());
    await agent.waitForLog('cannot read every watched directory');
    assert.equal(await agent.probe('/ready'), 503);
    assert.equal(await agent.probe('/healthz'), 200);
    assert.equal(await agent.probe('/nope'), 404);

    mkdirSync(dir);
    await agent.waitForLog('first scan complete');
    assert.equal(await agent.probe('/ready'), 200);
    assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  });
});
