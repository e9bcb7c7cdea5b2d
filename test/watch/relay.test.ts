// `sidekick watch --source relay` as a real process against a relay stand-in on loopback (real
// HTTPS, real server-sent events): first content before /ready, a change reloads the app, the
// token file is read again on every connect, the kubelet-mounted original takes over while the
// relay is down, and the watcher comes back to the relay.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentProcess, KubeletDir, tempDir, waitFor } from './helpers.js';
import { configMap, RelayStandIn } from './relay-stand-in.js';

interface Reloads {
  server: Server;
  url: string;
  count: number;
}

async function reloadEndpoint(): Promise<Reloads> {
  const reloads: Reloads = { server: createServer(), url: '', count: 0 };
  reloads.server.on('request', (req, res) => {
    reloads.count += 1;
    req.resume();
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => reloads.server.listen(0, '127.0.0.1', resolve));
  reloads.url = `http://127.0.0.1:${String((reloads.server.address() as AddressInfo).port)}/-/reload`;
  return reloads;
}

describe('sidekick watch --source relay', () => {
  let relay: RelayStandIn;
  let reloads: Reloads;
  let root: string;
  let agent: AgentProcess | undefined;
  let emptyDir: string;
  let original: KubeletDir;
  let tokenFile: string;

  before(async () => {
    relay = await RelayStandIn.start();
    reloads = await reloadEndpoint();
    root = tempDir('sidekick-relay-watch-');
    emptyDir = join(root, 'watch', 'conf');
    mkdirSync(emptyDir, { recursive: true, mode: 0o777 });
    original = KubeletDir.create({ 'app.yaml': 'v: kubelet-1\n' }, root);
    tokenFile = join(root, 'token');
    writeFileSync(tokenFile, 'token-1\n');
    writeFileSync(join(root, 'ca.crt'), relay.certificate.ca.cert);
  });

  after(async () => {
    await agent?.stop();
    await relay.stop();
    await new Promise((resolve) => reloads.server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  const layout = (): string =>
    JSON.stringify({
      volume: 'conf',
      dir: emptyDir,
      fallback: original.path,
      defaultMode: 0o440,
      sources: [{ kind: 'ConfigMap', name: 'app', items: [{ key: 'app.yaml', path: 'app.yaml' }] }],
    });

  const content = (): string => readFileSync(join(emptyDir, 'app.yaml'), 'utf8');

  it('is ready only once the relayed content is laid out, and a change reloads the app', async () => {
    relay.set(configMap('app', { 'app.yaml': 'v: relay-1\n' }, '10'));
    agent = await AgentProcess.start([
      `--url=${reloads.url}`,
      '--debounce=100ms',
      '--rescan-interval=500ms',
      '--source=relay',
      `--relay=${relay.url}`,
      `--relay-volume=${layout()}`,
      `--relay-token=${tokenFile}`,
      `--relay-ca=${join(root, 'ca.crt')}`,
      '--relay-startup-timeout=20s',
      '--fallback-interval=200ms',
    ]);
    // AgentProcess.start returned after /ready answered 200: the file was there by then.
    assert.equal(content(), 'v: relay-1\n');
    assert.match(readlinkSync(join(emptyDir, '..data')), /^\.\.\d{4}_/);
    assert.equal(readlinkSync(join(emptyDir, 'app.yaml')), '..data/app.yaml');
    assert.deepEqual(relay.queries[0]?.getAll('configmap'), ['app']);
    assert.equal(relay.tokensSeen[0], 'Bearer token-1');
    assert.equal(reloads.count, 0, 'the first content is not a reload');

    const started = Date.now();
    relay.set(configMap('app', { 'app.yaml': 'v: relay-2\n' }, '11'));
    await waitFor('the reload POST', () => reloads.count === 1);
    assert.equal(content(), 'v: relay-2\n');
    // Debounce 100 ms: the rest is the relay push, the write and the POST.
    assert.ok(Date.now() - started < 5_000, `reloaded after ${String(Date.now() - started)} ms`);
  });

  it('reads the token file again when it reconnects (after a relay shutdown event)', async () => {
    writeFileSync(tokenFile, 'token-2\n');
    relay.token = 'token-2';
    const seen = relay.tokensSeen.length;
    relay.shutdownStreams();
    await waitFor('a new subscription', () => relay.subscribers === 1 && relay.tokensSeen.length > seen);
    assert.equal(relay.tokensSeen.at(-1), 'Bearer token-2');
  });

  it('follows the kubelet-mounted original while the relay is down, without rolling back', async () => {
    assert.ok(agent);
    const from = agent.logs.length;
    await relay.stop();
    await agent.waitForLog('relay unreachable', () => true, from);
    // kubelet's copy is older than what the relay gave: not copied until kubelet changes it.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(content(), 'v: relay-2\n');
    const reloadsBefore = reloads.count;
    original.write({ 'app.yaml': 'v: kubelet-2\n' });
    await waitFor('the fallback copy', () => content() === 'v: kubelet-2\n');
    await waitFor('the reload after the fallback copy', () => reloads.count === reloadsBefore + 1);
    // Mode of the items (defaultMode 0440 there) is what kubelet gave the original: 0644 here.
    await agent.waitForLog('volume written', (l) => l.from === 'fallback', from);
  });

  it('reconnects with backoff when the relay is back, and takes its content again', async () => {
    assert.ok(agent);
    const from = agent.logs.length;
    relay.set(configMap('app', { 'app.yaml': 'v: relay-3\n' }, '12'));
    await relay.listen();
    // Full jitter up to 30 s in the worst case; a few seconds here, after a short outage.
    await waitFor('the relay content again', () => content() === 'v: relay-3\n', 60_000);
    await agent.waitForLog('relay reachable again', () => true, from);
  });

  it('exits 0 on SIGTERM', async () => {
    assert.ok(agent);
    assert.deepEqual(await agent.stop(), { code: 0, signal: null });
    agent = undefined;
  });
});

describe('sidekick watch --source relay, a ConfigMap that does not exist yet', () => {
  it('stays not ready (503) until the relay has its content, then lays it out', async () => {
    const relay = await RelayStandIn.start();
    const root = tempDir('sidekick-relay-late-');
    const emptyDir = join(root, 'watch');
    mkdirSync(emptyDir, { mode: 0o777 });
    writeFileSync(join(root, 'token'), relay.token);
    writeFileSync(join(root, 'ca.crt'), relay.certificate.ca.cert);
    const layout = JSON.stringify({
      volume: 'conf',
      dir: emptyDir,
      fallback: join(root, 'missing'),
      defaultMode: 0o644,
      sources: [{ kind: 'ConfigMap', name: 'late' }],
    });
    const agent = await AgentProcess.start(
      [
        '--url=http://127.0.0.1:9/',
        '--source=relay',
        `--relay=${relay.url}`,
        `--relay-volume=${layout}`,
        `--relay-token=${join(root, 'token')}`,
        `--relay-ca=${join(root, 'ca.crt')}`,
        '--relay-startup-timeout=60s',
      ],
      { waitReady: false },
    );
    try {
      await waitFor('the subscription', () => relay.subscribers === 1);
      await agent.waitForLog('volume left as it is');
      assert.equal(await agent.probe('/ready'), 503);
      relay.set(configMap('late', { 'x.conf': 'here' }));
      await waitFor('/ready', async () => (await agent.probe('/ready')) === 200);
      assert.equal(readFileSync(join(emptyDir, 'x.conf'), 'utf8'), 'here');
    } finally {
      await agent.stop();
      await relay.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('sidekick watch --source relay, relay unreachable from the start', () => {
  it('starts from the kubelet-mounted original and is ready', async () => {
    const root = tempDir('sidekick-relay-down-');
    const emptyDir = join(root, 'watch');
    mkdirSync(emptyDir, { mode: 0o777 });
    const original = KubeletDir.create({ 'a.conf': 'from kubelet' }, root);
    writeFileSync(join(root, 'token'), 't');
    const layout = JSON.stringify({
      volume: 'conf',
      dir: emptyDir,
      fallback: original.path,
      defaultMode: 0o644,
      sources: [{ kind: 'ConfigMap', name: 'a' }],
    });
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const agent = await AgentProcess.start([
      '--url=http://127.0.0.1:9/',
      '--source=relay',
      '--relay=https://127.0.0.1:9',
      `--relay-volume=${layout}`,
      `--relay-token=${join(root, 'token')}`,
    ]);
    try {
      assert.equal(readFileSync(join(emptyDir, 'a.conf'), 'utf8'), 'from kubelet');
    } finally {
      await agent.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
