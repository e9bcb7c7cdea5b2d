import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AgentProcess, HupCounter, KubeletDir, tempDir, uniqueProcessName } from './helpers.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

void describe('signal mode across users', () => {
  void test(
    'a process of another UID is reported as not permitted, with the fix; a process of the same UID is signalled',
    { skip: isRoot ? false : 'needs root to start processes as two different users' },
    async (t) => {
      const root = tempDir();
      t.after(() => {
        rmSync(root, { recursive: true, force: true });
      });
      const config = KubeletDir.create({ 'app.conf': 'v1' }, root);
      const name = uniqueProcessName();
      // Same name, two users: the app as root (as if runAsUser differed), and one as the agent's user.
      const other = await HupCounter.start(name);
      t.after(() => other.stop());
      const same = await HupCounter.start(name, { uid: NOBODY, gid: NOBODY });
      t.after(() => same.stop());
      const agent = await AgentProcess.start(
        ['--dir', config.path, '--process', name, '--debounce', '100ms'],
        {
          uid: NOBODY,
          gid: NOBODY,
        },
      );
      t.after(() => agent.stop());

      config.write({ 'app.conf': 'v2' });
      await same.waitForHups(1);
      const denied = await agent.waitForLog('not permitted');
      assert.equal(denied.level, 50);
      assert.equal(denied.pid, other.pid);
      assert.equal(denied.targetUid, 0);
      assert.equal(denied.agentUid, NOBODY);
      assert.match(denied.msg, /UIDs differ/);
      assert.match(denied.msg, /runAsUser/);
      assert.deepEqual((await agent.waitForLog('reload signal sent')).pids, [same.pid]);
      assert.equal(other.hups, 0);
      assert.equal(await agent.probe('/healthz'), 200);
      assert.deepEqual(await agent.stop(), { code: 0, signal: null });
    },
  );

  void test(
    'files the agent cannot read are named in a warning and still count by name',
    { skip: isRoot ? false : 'needs root to own a file the agent cannot read' },
    async (t) => {
      const root = tempDir();
      t.after(() => {
        rmSync(root, { recursive: true, force: true });
      });
      const dir = join(root, 'secret');
      mkdirSync(dir, { mode: 0o755 });
      writeFileSync(join(dir, 'public.conf'), 'p');
      writeFileSync(join(dir, 'key.pem'), 'k');
      chmodSync(join(dir, 'key.pem'), 0o600);
      const agent = await AgentProcess.start(
        ['--dir', dir, '--process', uniqueProcessName(), '--debounce', '100ms'],
        {
          uid: NOBODY,
          gid: NOBODY,
        },
      );
      t.after(() => agent.stop());
      const warning = await agent.waitForLog('cannot read some files');
      assert.deepEqual(warning.unreadable, [join(dir, 'key.pem')]);

      rmSync(join(dir, 'key.pem'));
      const change = await agent.waitForLog('content changed');
      assert.deepEqual(change.change, { added: [], removed: [join(dir, 'key.pem')], modified: [] });
      assert.deepEqual(await agent.stop(), { code: 0, signal: null });
    },
  );
});
