import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { diffSnapshots, scanDir, scanDirs } from '../../src/watch/snapshot.js';
import { KubeletDir, tempDir } from './helpers.js';

void describe('content snapshots of real directories', () => {
  void test('a kubelet volume is read through ..data; a no-op swap hashes the same, a change does not', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const volume = KubeletDir.create({ 'app.conf': 'v1', 'conf.d/a.conf': 'a' }, root);
    const first = await scanDirs([volume.path]);
    assert.equal(first.complete, true);
    assert.deepEqual([...(first.dirs[0]?.files.keys() ?? [])].sort(), ['app.conf', 'conf.d/a.conf']);

    volume.write({ 'app.conf': 'v1', 'conf.d/a.conf': 'a' });
    const same = await scanDirs([volume.path]);
    assert.equal(same.hash, first.hash);

    volume.write({ 'app.conf': 'v1', 'conf.d/a.conf': 'b' });
    const changed = await scanDirs([volume.path]);
    assert.notEqual(changed.hash, first.hash);
    assert.deepEqual(diffSnapshots(first, changed), {
      added: [],
      removed: [],
      modified: [join(volume.path, 'conf.d/a.conf')],
    });

    // A renamed key with the same bytes is a change too: names are part of the hash.
    volume.write({ 'app2.conf': 'v1', 'conf.d/a.conf': 'b' });
    const renamed = await scanDirs([volume.path]);
    assert.notEqual(renamed.hash, changed.hash);
    assert.deepEqual(diffSnapshots(changed, renamed), {
      added: [join(volume.path, 'app2.conf')],
      removed: [join(volume.path, 'app.conf')],
      modified: [],
    });
  });

  void test('mid-swap states, loops and special files do not break a scan', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const dir = join(root, 'd');
    mkdirSync(dir);
    writeFileSync(join(dir, 'real.conf'), 'x');
    symlinkSync('..data/gone.conf', join(dir, 'gone.conf')); // dangling, as between kubelet steps 9 and 11
    symlinkSync('.', join(dir, 'loop')); // a directory link to itself
    execFileSync('mkfifo', [join(dir, 'pipe')]); // reading it would block forever
    mkdirSync(join(dir, '..2026_01_01_00_00_00.1'));
    writeFileSync(join(dir, '..2026_01_01_00_00_00.1', 'hidden.conf'), 'kubelet internals');
    const snapshot = await scanDir(dir);
    assert.equal(snapshot.error, undefined);
    assert.deepEqual([...snapshot.files.keys()], ['real.conf']);
  });

  void test('an unreadable directory makes the snapshot incomplete, and differs from an empty one', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    const missing = await scanDirs([join(root, 'missing')]);
    assert.equal(missing.complete, false);
    assert.match(missing.dirs[0]?.error ?? '', /ENOENT/);
    mkdirSync(join(root, 'missing'));
    const empty = await scanDirs([join(root, 'missing')]);
    assert.equal(empty.complete, true);
    assert.notEqual(empty.hash, missing.hash);
    writeFileSync(join(root, 'file'), 'x');
    assert.equal((await scanDir(join(root, 'file'))).error, 'not a directory');
  });

  void test('the same files in a different watched directory hash differently', async (t) => {
    const root = tempDir();
    t.after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    for (const d of ['a', 'b']) {
      mkdirSync(join(root, d));
      writeFileSync(join(root, d, 'f'), 'same');
    }
    const a = await scanDirs([join(root, 'a')]);
    const b = await scanDirs([join(root, 'b')]);
    assert.notEqual(a.hash, b.hash);
    assert.equal(a.dirs[0]?.files.get('f'), b.dirs[0]?.files.get('f'));
  });
});
