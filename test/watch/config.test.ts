import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig, signalName } from '../../src/watch/config.js';

void test('signal mode with defaults', () => {
  const result = buildConfig({ dirs: ['/etc/app', '/etc/app', '/etc/tls'], process: 'nginx' });
  assert.deepEqual(result, {
    ok: true,
    config: {
      dirs: ['/etc/app', '/etc/tls'],
      mode: { kind: 'signal', process: 'nginx', signal: 'SIGHUP' },
      debounceMs: 1000,
      jitterMs: 0,
      rescanMs: 5000,
      healthPort: 9797,
      healthAddress: undefined,
    },
  });
});

void test('HTTP mode with durations and a port', () => {
  const result = buildConfig({
    dirs: ['/etc/prometheus'],
    url: 'http://127.0.0.1:9090/-/reload',
    debounce: '500ms',
    jitter: '1m',
    healthPort: '0',
  });
  assert.ok(result.ok);
  assert.equal(result.config.mode.kind, 'http');
  assert.equal(result.config.debounceMs, 500);
  assert.equal(result.config.jitterMs, 60_000);
  assert.equal(result.config.healthPort, 0);
  assert.equal(buildConfig({ dirs: ['/d'], url: 'http://x/', healthPort: 'off' }).ok && true, true);
});

void test('every problem is reported at once', () => {
  const result = buildConfig({ dirs: [], jitter: '10', debounce: '25h', healthPort: '70000' });
  assert.ok(!result.ok);
  assert.equal(result.problems.length, 5, result.problems.join('\n'));
  assert.ok(result.problems.some((p) => p.includes('exactly one of --process')));
});

void test('mode conflicts and bad values', () => {
  const problems = (raw: Parameters<typeof buildConfig>[0]) => {
    const r = buildConfig(raw);
    return r.ok ? [] : r.problems;
  };
  assert.match(problems({ dirs: ['/d'], process: 'a', url: 'http://x/' }).join(), /exactly one/);
  assert.match(problems({ dirs: ['/d'], url: 'ftp://x/' }).join(), /http:\/\/ or https:\/\//);
  assert.match(problems({ dirs: ['/d'], url: 'not a url' }).join(), /not a URL/);
  assert.match(
    problems({ dirs: ['/d'], url: 'http://x/', signal: 'HUP' }).join(),
    /--signal applies to --process/,
  );
  assert.match(problems({ dirs: ['/d'], process: 'a', signal: 'NOPE' }).join(), /unknown signal/);
  assert.match(problems({ dirs: ['/d'], process: 'a', rescanInterval: '1ms' }).join(), /out of range/);
});

void test('signal names: with or without SIG, any case', () => {
  assert.equal(signalName('HUP'), 'SIGHUP');
  assert.equal(signalName('sigusr1'), 'SIGUSR1');
  assert.equal(signalName('usr2'), 'SIGUSR2');
  assert.equal(signalName('SIGTERM'), 'SIGTERM');
  assert.equal(signalName('FOO'), undefined);
  assert.equal(signalName(''), undefined);
});

void test('relay mode: the layouts give the directories; defaults for the token and the CA', () => {
  const layout = JSON.stringify({
    volume: 'conf',
    dir: '/sidekick/watch/conf',
    fallback: '/sidekick/source/conf',
    defaultMode: 420,
    sources: [{ kind: 'ConfigMap', name: 'web' }],
  });
  const result = buildConfig({ dirs: [], url: 'http://127.0.0.1/', source: 'relay', relayVolumes: [layout] });
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  assert.deepEqual(result.config.dirs, ['/sidekick/watch/conf']);
  const relay = result.config.relay;
  assert.ok(relay);
  assert.equal(relay.url.href, 'https://sidekick-relay.sidekick.svc/');
  assert.equal(relay.tokenFile, '/var/run/secrets/sidekick.dev/relay/token');
  assert.equal(relay.caFile, '/var/run/secrets/sidekick.dev/relay/ca.crt');
  assert.equal(relay.startupTimeoutMs, 10_000);
});

void test('relay mode: refused without https, without a volume, or with a layout in volume mode', () => {
  const plain = buildConfig({ dirs: ['/d'], url: 'http://x/', source: 'relay', relay: 'http://relay' });
  assert.ok(!plain.ok);
  assert.match(plain.problems.join('\n'), /--relay: 'http:\/\/relay\/' must be https/);
  assert.match(plain.problems.join('\n'), /needs at least one volume/);
  const stray = buildConfig({ dirs: ['/d'], url: 'http://x/', relayVolumes: ['{}'] });
  assert.ok(!stray.ok);
  assert.match(stray.problems.join('\n'), /--relay-volume applies to --source relay only/);
  const unknown = buildConfig({ dirs: ['/d'], url: 'http://x/', source: 'kubelet' });
  assert.ok(!unknown.ok);
});
