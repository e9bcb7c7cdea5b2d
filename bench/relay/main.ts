// npm run bench:relay: one ConfigMap change fanned out by `sidekick relay` to thousands of
// subscribers held by one load process, on a real control plane. Each subscriber authenticates
// with a real TokenRequest token bound to a real Pod (a few Pods, their tokens shared by many
// connections). Reports delivery latency from the API write to each subscriber's receipt at two
// --rate settings, the relay's CPU and RSS, and the apiserver's own count of ConfigMap watches
// with the relay against the same subscribers watching the apiserver directly.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { generateCa } from '../../src/certs/generate.js';
import { startControlPlane, type ControlPlane } from '../../test/e2e/harness/controlplane.js';
import { loopbackServingPair } from '../../test/e2e/harness/injector.js';
import { forgetOnExit, removeOnExit } from '../../test/e2e/harness/processes.js';
import { RelayProcess } from '../../test/e2e/harness/relay.js';
import { createPod, podToken } from '../../test/e2e/harness/tokens.js';
import { waitFor } from '../../test/e2e/harness/wait.js';
import { cpuSeconds, load1, ROOT, rssBytes } from '../proc.js';
import { round, summarize } from '../stats.js';
import type { LoadConfig, LoadMessage } from './load.js';

const NS = 'fanout';
const CM = 'fanout-config';
const epochNow = (): number => performance.timeOrigin + performance.now();

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '2000' },
    rates: { type: 'string', default: '200,1000' },
    pods: { type: 'string', default: '4' },
    changes: { type: 'string', default: '3' },
    out: { type: 'string', default: join(ROOT, 'bench', 'relay-results.json') },
  },
});
const subscribers = Number(values.subscribers);
const rates = values.rates.split(',').map(Number);
const podCount = Number(values.pods);
const changes = Number(values.changes);

/** Sum of the apiserver's long-running WATCH requests on ConfigMaps, from its /metrics. */
async function configMapWatches(cp: ControlPlane): Promise<number> {
  const response = await cp.api.request('GET', '/metrics');
  const text = typeof response.body === 'string' ? response.body : '';
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_longrunning_requests{')) continue;
    if (!line.includes('resource="configmaps"') || !line.includes('verb="WATCH"')) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function startLoad(
  config: LoadConfig,
): Promise<{ child: ChildProcess; ready: Extract<LoadMessage, { type: 'ready' }> }> {
  const child = fork(join(ROOT, 'dist', 'bench', 'relay', 'load.js'), [], {
    env: { ...process.env, RELAY_LOAD_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`the load process exited (${String(code)}) before it was ready`));
    });
    child.once('message', (message: LoadMessage) => {
      if (message.type === 'ready') resolve({ child, ready: message });
    });
  });
}

function askArrivals(
  child: ChildProcess,
  version: string,
): Promise<Extract<LoadMessage, { type: 'arrivals' }>> {
  return new Promise((resolve) => {
    const on = (message: LoadMessage): void => {
      if (message.type === 'arrivals' && message.version === version) {
        child.off('message', on);
        resolve(message);
      }
    };
    child.on('message', on);
    child.send({ type: 'arrivals', version });
  });
}

async function stopLoad(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.disconnect();
  const exit = await Promise.race([exited, sleep(5000).then(() => 'timeout')]);
  if (exit === 'timeout') child.kill('SIGKILL');
}

interface ChangeResult {
  delivered: number;
  missing: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

let version = 0;
/** One ConfigMap write; waits until every stream has it (or the time allowed is up). */
async function change(
  cp: ControlPlane,
  load: ChildProcess,
  expected: number,
  allowMs: number,
): Promise<ChangeResult> {
  const v = String(++version);
  const at = epochNow();
  await cp.api.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CM, namespace: NS },
    data: { v },
  });
  const deadline = Date.now() + allowMs;
  let answer = await askArrivals(load, v);
  while (answer.arrivals.length < expected && Date.now() < deadline) {
    await sleep(250);
    answer = await askArrivals(load, v);
  }
  const latencies = summarize(answer.arrivals.map((arrival) => arrival - at));
  return {
    delivered: answer.arrivals.length,
    missing: expected - answer.arrivals.length,
    p50Ms: round(latencies.p50),
    p99Ms: round(latencies.p99),
    maxMs: round(latencies.max),
  };
}

interface RateRow {
  rate: number;
  subscribers: number;
  setupSeconds: number;
  changes: ChangeResult[];
  relayCpuSecondsPerChange: number;
  relayCpuSecondsSetup: number;
  relayRssMiBIdle: number;
  relayRssMiBPeak: number;
  configMapWatchesWithRelay: number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sidekick-bench-relay-'));
  removeOnExit(dir);
  const cp = await startControlPlane();
  const children: ChildProcess[] = [];
  try {
    await cp.api.call('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    });
    await waitFor(
      async () =>
        (await cp.api.request('GET', `/api/v1/namespaces/${NS}/serviceaccounts/default`)).status === 200
          ? true
          : undefined,
      { timeoutMs: 30_000, what: 'the default ServiceAccount' },
    );
    await cp.api.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: CM, namespace: NS },
      data: { v: '0' },
    });
    const tokens: string[] = [];
    for (let i = 0; i < podCount; i++) {
      const pod = await createPod(cp.api, NS, `sub-${String(i)}`, [
        { name: 'config', configMap: { name: CM } },
      ]);
      tokens.push(await podToken(cp.api, NS, pod));
    }
    const tls = await loopbackServingPair(await generateCa('bench-relay-ca'), dir, 'relay');
    const caFile = join(dir, 'ca.crt');
    await writeFile(caFile, tls.ca);
    const baselineWatches = await configMapWatches(cp);

    const rows: RateRow[] = [];
    for (const rate of rates) {
      const relay = await RelayProcess.start({
        kubeconfigPath: cp.kubeconfigPath,
        tls,
        logDir: dir,
        args: [`--rate=${String(rate)}`, '--log-level=warn'],
      });
      const pid = relay.process.pid ?? 0;
      try {
        const cpuBefore = cpuSeconds(pid);
        const loadStarted = performance.now();
        const { child, ready } = await startLoad({
          mode: 'relay',
          count: subscribers,
          configMap: CM,
          namespace: NS,
          origin: relay.origin,
          caFile,
          tokens,
        });
        children.push(child);
        if (ready.failed > 0) throw new Error(`${String(ready.failed)} subscriptions failed`);
        const setupSeconds = (performance.now() - loadStarted) / 1000;
        const cpuSetup = cpuSeconds(pid) - cpuBefore;
        await sleep(2000);
        const rssIdle = rssBytes(pid);
        const watches = await configMapWatches(cp);
        let peak = rssIdle;
        const sampler = setInterval(() => {
          peak = Math.max(peak, rssBytes(pid));
        }, 100);
        const results: ChangeResult[] = [];
        const cpuChanges = cpuSeconds(pid);
        for (let i = 0; i < changes; i++) {
          results.push(await change(cp, child, subscribers, (subscribers / rate) * 1000 + 20_000));
          await sleep(1000);
        }
        clearInterval(sampler);
        const perChange = (cpuSeconds(pid) - cpuChanges) / changes;
        rows.push({
          rate,
          subscribers: ready.streams,
          setupSeconds: round(setupSeconds),
          changes: results,
          relayCpuSecondsPerChange: round(perChange),
          relayCpuSecondsSetup: round(cpuSetup),
          relayRssMiBIdle: round(rssIdle / 2 ** 20),
          relayRssMiBPeak: round(peak / 2 ** 20),
          configMapWatchesWithRelay: watches,
        });
        console.error(JSON.stringify(rows[rows.length - 1]));
        await stopLoad(child);
      } finally {
        await relay.process.stop();
      }
    }

    // The same subscribers watching the apiserver themselves (namespace-scoped, one name each).
    const { child: direct, ready: directReady } = await startLoad({
      mode: 'direct',
      count: subscribers,
      configMap: CM,
      namespace: NS,
      kubeconfigPath: cp.kubeconfigPath,
    });
    children.push(direct);
    await sleep(2000);
    const directWatches = await configMapWatches(cp);
    const directChange = await change(cp, direct, directReady.streams, 30_000);
    await stopLoad(direct);

    const results = {
      measuredAt: new Date().toISOString(),
      command: `npm run bench:relay -- --subscribers ${String(subscribers)} --rates ${rates.join(',')} --pods ${String(podCount)} --changes ${String(changes)}`,
      load1AtEnd: round(load1()),
      pods: podCount,
      baselineConfigMapWatches: baselineWatches,
      relay: rows,
      direct: {
        watchers: directReady.streams,
        failed: directReady.failed,
        configMapWatches: directWatches,
        change: directChange,
      },
    };
    await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(report(results));
  } finally {
    for (const child of children) await stopLoad(child);
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
    forgetOnExit(dir);
  }
}

function report(results: {
  baselineConfigMapWatches: number;
  relay: RateRow[];
  direct: { watchers: number; configMapWatches: number; change: ChangeResult };
}): string {
  const lines = [
    '| --rate | subscribers | change | delivered | p50 ms | p99 ms | max ms | relay CPU s / change | relay RSS MiB idle / peak |',
    '| -----: | ----------: | -----: | --------: | -----: | -----: | -----: | -------------------: | ------------------------: |',
  ];
  for (const row of results.relay) {
    row.changes.forEach((c, i) => {
      lines.push(
        `| ${String(row.rate)} | ${String(row.subscribers)} | ${String(i + 1)} | ${String(c.delivered)} | ${String(c.p50Ms)} | ${String(c.p99Ms)} | ${String(c.maxMs)} | ${String(row.relayCpuSecondsPerChange)} | ${String(row.relayRssMiBIdle)} / ${String(row.relayRssMiBPeak)} |`,
      );
    });
  }
  const d = results.direct;
  lines.push(
    '',
    '| ConfigMap watches on the apiserver (apiserver_longrunning_requests, verb WATCH) | count |',
    '| --- | ---: |',
    `| before any subscriber (kube-controller-manager's own) | ${String(results.baselineConfigMapWatches)} |`,
    ...results.relay.map(
      (r) =>
        `| relay (1 replica) + ${String(r.subscribers)} subscribers | ${String(r.configMapWatchesWithRelay)} |`,
    ),
    `| ${String(d.watchers)} direct watchers, no relay | ${String(d.configMapWatches)} |`,
    '',
    `Direct watchers, one change: delivered ${String(d.change.delivered)}, p50 ${String(d.change.p50Ms)} ms, p99 ${String(d.change.p99Ms)} ms, max ${String(d.change.maxMs)} ms (no pacing).`,
  );
  return lines.join('\n');
}

await main();
