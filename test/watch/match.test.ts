import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchesProcess, parseCmdline, selectTargets, type ProcessInfo } from '../../src/watch/match.js';
import { listProcesses, processUid } from '../../src/watch/proc.js';
import { HupCounter, uniqueProcessName } from './helpers.js';

const p = (pid: number, comm: string, argv: string[]): ProcessInfo => ({ pid, comm, argv });

void describe('process matching', () => {
  void test('by comm, by argv[0] basename, by full path', () => {
    const nginx = p(10, 'nginx', ['nginx: master process /usr/sbin/nginx', '-g', 'daemon off;']);
    assert.equal(matchesProcess(nginx, 'nginx'), true);
    const prom = p(11, 'prometheus', ['/bin/prometheus', '--config.file=/etc/prometheus/prometheus.yml']);
    assert.equal(matchesProcess(prom, 'prometheus'), true);
    assert.equal(matchesProcess(prom, '/bin/prometheus'), true);
    assert.equal(matchesProcess(prom, '/usr/bin/prometheus'), false);
    const python = p(12, 'python3', ['/usr/bin/python', 'app.py']);
    assert.equal(matchesProcess(python, 'python'), true);
    assert.equal(matchesProcess(python, 'python3'), true);
    assert.equal(matchesProcess(python, 'app.py'), false, 'only argv[0] names the process');
    assert.equal(matchesProcess(prom, 'prom'), false, 'no prefix matching of short names');
  });

  void test('a name longer than 15 bytes matches the comm the kernel truncated', () => {
    const long = p(20, 'my-long-applica', ['./run']);
    assert.equal(matchesProcess(long, 'my-long-application-server'), true);
    assert.equal(matchesProcess(long, 'my-long-applicb-server'), false);
    assert.equal(matchesProcess(long, 'my-long-applica'), true);
    assert.equal(matchesProcess(p(21, 'my-long-appli', ['x']), 'my-long-application'), false);
    // Truncation inside a multi-byte character: the kernel keeps 15 bytes.
    const name = 'appé-ünïcødé-server';
    const comm = Buffer.from(name).subarray(0, 15).toString('utf8');
    assert.equal(matchesProcess(p(22, comm, []), name), true);
  });

  void test('kernel threads and zombies (no cmdline) match only by comm', () => {
    assert.equal(matchesProcess(p(2, 'kthreadd', []), 'kthreadd'), true);
    assert.equal(matchesProcess(p(2, 'kthreadd', []), 'nginx'), false);
  });

  void test('the agent itself is never a target', () => {
    const list = [
      p(1, 'pause', ['/pause']),
      p(7, 'node', ['node', 'app.js']),
      p(9, 'node', ['node', 'sidekick']),
    ];
    assert.deepEqual(
      selectTargets(list, 'node', 9).map((x) => x.pid),
      [7],
    );
    assert.deepEqual(selectTargets(list, 'nginx', 9), []);
  });

  void test('cmdline: NUL-separated, trailing padding dropped', () => {
    assert.deepEqual(parseCmdline(Buffer.from('nginx\0-g\0daemon off;\0')), ['nginx', '-g', 'daemon off;']);
    assert.deepEqual(parseCmdline(Buffer.from('retitled\0\0\0\0')), ['retitled']);
    assert.deepEqual(parseCmdline(Buffer.from('')), []);
  });
});

void describe('/proc', () => {
  void test('lists a live process with its name, command line and UID', async (t) => {
    const name = uniqueProcessName();
    const app = await HupCounter.start(name);
    t.after(() => app.stop());
    const all = await listProcesses();
    const found = all.filter((x) => x.comm === name);
    assert.deepEqual(
      found.map((x) => x.pid),
      [app.pid],
    );
    assert.equal(found[0]?.argv[0], name);
    assert.deepEqual(
      selectTargets(all, name, process.pid).map((x) => x.pid),
      [app.pid],
    );
    assert.equal(await processUid(app.pid), process.getuid?.());
    const self = all.find((x) => x.pid === process.pid);
    assert.ok(self && self.argv.length > 0);
  });
});
