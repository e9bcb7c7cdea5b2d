import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isObject, type JsonObject } from '../../src/json.js';
import { INJECT } from '../../test/e2e/harness/objects.js';
import { SYNC_FREQUENCY, type NodeEnvironment } from '../../test/node/harness/environment.js';
import { NODE_NAME, shimPids } from '../../test/node/harness/node.js';
import {
  allRunning,
  appContainer,
  containerLog,
  getPod,
  nodePod,
  waitForPod,
} from '../../test/node/harness/pods.js';
import { configMap } from '../../test/node/cases/templates.js';
import { median, round } from '../stats.js';
import { atomicWrite } from './atomic-writer.js';
import {
  cgroupMemory,
  containerPids,
  kubepodsMemory,
  podCgroup,
  containerCpu,
  processCpuSeconds,
  processMemory,
  processStartMs,
  type CpuFigures,
  rss,
  type CgroupMemory,
  type ProcessMemory,
} from './node-memory.js';
import { timeToReady } from './watch-ready.js';

const NS = 'bench-footprint';
const CONFIG = 'watched';
const WATCHER = 'config-watcher';
const MiB = 2 ** 20;

export interface FootprintSettings {
  counts: number[];
  changes: number;
  /** Between two writes of the watched directory; longer than the watcher's debounce. */
  changeIntervalMs: number;
  readyRuns: number;
  /** The Node binary of the image (Node 26), to time /ready as the container runs it. */
  imageNode?: string;
}

export interface PodFigures {
  /** The Pod's cgroup (all its containers and the pause container). */
  pod: CgroupMemory;
  /** The config-watcher container's cgroup. */
  watcher: CgroupMemory;
  /** The working sets kubelet reports in its Summary API, through the apiserver's node proxy. */
  summaryPodWorkingSet: number;
  summaryWatcherWorkingSet: number;
  watcherProcess: ProcessMemory;
  /**
   * The watcher's process created (runc creates it, then waits for kubelet's start) → its "first
   * scan complete" log line (what /ready waits for).
   */
  readyMs: number;
  /** Node's own start (its timeOrigin) → that line: the start-up that is sidekick's. */
  nodeReadyMs: number;
  cpu: CpuFigures;
}

export interface StageFigures {
  pods: number;
  /** Per watcher Pod (min, median, max over the Pods), in MiB. */
  perPod: Record<string, [number, number, number]>;
  /** In-Pod start to ready, and the CPU each watcher used and was throttled for, in ms. */
  readyMs: [number, number, number];
  nodeReadyMs: [number, number, number];
  cpuUsedMs: [number, number, number];
  throttledMs: [number, number, number];
  node: NodeTotals;
}

export interface NodeTotals {
  kubepods: CgroupMemory;
  shimsRss: number;
  containerdRss: number;
  kubeletRss: number;
  /** kubepods usage + shims + containerd + kubelet: what the node spends on Pods. */
  total: number;
}

export interface ChurnFigures {
  changes: number;
  notifications: number;
  seconds: number;
  idle: ProcessMemory;
  after: ProcessMemory;
  /** The process after every quarter of the changes. */
  samples: { changes: number; memory: ProcessMemory }[];
  afterCgroup: CgroupMemory;
  idleCgroup: CgroupMemory;
  cpuMsPerChange: number;
  /** The watcher's CPU while nothing changes, in ms per minute. */
  idleCpuMsPerMinute: number;
}

export interface FootprintResults {
  stages: StageFigures[];
  /** Bytes per Pod between consecutive stages, and over the whole range. */
  growthPerPod: { from: number; to: number; totalMiB: number; kubepodsMiB: number; shimsMiB: number }[];
  control: PodFigures;
  churn: ChurnFigures;
  readyMs: Record<string, number[]>;
  imageBytes: number;
  imageReference: string;
  syncFrequency: string;
  template: JsonObject;
}

interface PodRef {
  name: string;
  uid: string;
  watcherId: string;
}

function watcherPod(name: string, debounce: string): JsonObject {
  return nodePod({
    name,
    labels: { bench: 'footprint' },
    annotations: {
      [INJECT]: WATCHER,
      'sidekick.dev/config-watcher.url': 'http://127.0.0.1:8080/-/reload',
      'sidekick.dev/config-watcher.debounce': debounce,
    },
    spec: {
      containers: [
        appContainer('app', ['/bin/reload-app', '--listen=127.0.0.1:8080', '--config=/etc/app/config.txt'], {
          volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
        }),
      ],
      volumes: [{ name: 'config', configMap: { name: CONFIG } }],
    },
  });
}

/** The same app with no sidecar: what a Pod costs without config-watcher. */
function controlPod(): JsonObject {
  const pod = watcherPod('control', '1s');
  const metadata = isObject(pod.metadata) ? pod.metadata : {};
  metadata.annotations = {};
  return pod;
}

function statuses(pod: JsonObject): JsonObject[] {
  const s = isObject(pod.status) ? pod.status : {};
  const all = [
    ...(Array.isArray(s.initContainerStatuses) ? s.initContainerStatuses : []),
    ...(Array.isArray(s.containerStatuses) ? s.containerStatuses : []),
  ];
  return all.filter(isObject);
}

function ready(pod: JsonObject, names: string[]): boolean {
  return allRunning(pod, names) && statuses(pod).every((c) => c.name !== WATCHER || c.started === true);
}

async function startPods(env: NodeEnvironment, pods: JsonObject[], names: string[]): Promise<PodRef[]> {
  const refs: PodRef[] = [];
  // A few at a time, as a rollout would: kubelet starts them in parallel anyway.
  for (let i = 0; i < pods.length; i += 10) {
    const batch = pods.slice(i, i + 10);
    await Promise.all(batch.map((pod) => env.e2e.createPod(NS, pod)));
    for (const pod of batch) {
      const name = isObject(pod.metadata) && typeof pod.metadata.name === 'string' ? pod.metadata.name : '';
      const running = await waitForPod(env.e2e.api, NS, name, 'running', (p) => ready(p, names), 180_000);
      const meta = isObject(running.metadata) ? running.metadata : {};
      const watcher = statuses(running).find((c) => c.name === WATCHER);
      const id = typeof watcher?.containerID === 'string' ? watcher.containerID.replace(/^\w+:\/\//, '') : '';
      refs.push({ name, uid: typeof meta.uid === 'string' ? meta.uid : '', watcherId: id });
    }
  }
  return refs;
}

interface Summary {
  pods: Map<string, { pod: number; containers: Map<string, number> }>;
}

async function summary(env: NodeEnvironment): Promise<Summary> {
  const body = await env.e2e.api.get(`/api/v1/nodes/${NODE_NAME}/proxy/stats/summary`);
  const pods = new Map<string, { pod: number; containers: Map<string, number> }>();
  for (const pod of Array.isArray(body.pods) ? body.pods.filter(isObject) : []) {
    const ref = isObject(pod.podRef) ? pod.podRef : {};
    const ws = (o: unknown): number =>
      isObject(o) && isObject(o.memory) && typeof o.memory.workingSetBytes === 'number'
        ? o.memory.workingSetBytes
        : 0;
    const containers = new Map<string, number>();
    for (const c of Array.isArray(pod.containers) ? pod.containers.filter(isObject) : []) {
      if (typeof c.name === 'string') containers.set(c.name, ws(c));
    }
    if (typeof ref.name === 'string') pods.set(ref.name, { pod: ws(pod), containers });
  }
  return { pods };
}

async function readyAfterStart(
  env: NodeEnvironment,
  ref: PodRef,
  pid: number,
): Promise<{ readyMs: number; nodeReadyMs: number }> {
  const log = await containerLog(env.e2e.api, NS, ref.name, WATCHER);
  const line = log.find((l) => l.text.includes('first scan complete'));
  if (!line) throw new Error(`no "first scan complete" in the watcher log of ${ref.name}`);
  const parsed: unknown = JSON.parse(line.text);
  const time = isObject(parsed) && typeof parsed.time === 'number' ? parsed.time : Number.NaN;
  const startup = isObject(parsed) && typeof parsed.startupMs === 'number' ? parsed.startupMs : Number.NaN;
  return { readyMs: time - processStartMs(pid), nodeReadyMs: startup };
}

async function podFigures(env: NodeEnvironment, ref: PodRef, s: Summary): Promise<PodFigures> {
  const dir = podCgroup(ref.uid);
  const pid = containerPids(dir, ref.watcherId)[0];
  if (pid === undefined) throw new Error(`no process in the watcher of ${ref.name}`);
  const fromSummary = s.pods.get(ref.name);
  return {
    ...(await readyAfterStart(env, ref, pid)),
    cpu: containerCpu(dir, ref.watcherId),
    pod: cgroupMemory(dir),
    watcher: cgroupMemory(join(dir, ref.watcherId)),
    summaryPodWorkingSet: fromSummary?.pod ?? 0,
    summaryWatcherWorkingSet: fromSummary?.containers.get(WATCHER) ?? 0,
    watcherProcess: processMemory(pid),
  };
}

function nodeTotals(env: NodeEnvironment): NodeTotals {
  const kubepods = kubepodsMemory();
  const shimsRss = shimPids().reduce((a, pid) => a + rss(pid), 0);
  const containerdRss = env.node.containerd.pid === undefined ? 0 : rss(env.node.containerd.pid);
  const kubeletRss = env.node.kubelet.pid === undefined ? 0 : rss(env.node.kubelet.pid);
  return {
    kubepods,
    shimsRss,
    containerdRss,
    kubeletRss,
    total: kubepods.usage + shimsRss + containerdRss + kubeletRss,
  };
}

function spread(values: number[]): [number, number, number] {
  const mib = values.map((v) => round(v / MiB));
  return [Math.min(...mib), round(median(values) / MiB), Math.max(...mib)];
}

function msSpread(values: number[]): [number, number, number] {
  return [round(Math.min(...values)), round(median(values)), round(Math.max(...values))];
}

function stage(pods: number, figures: PodFigures[], node: NodeTotals): StageFigures {
  const pick = (f: (p: PodFigures) => number): [number, number, number] => spread(figures.map(f));
  return {
    pods,
    perPod: {
      'Pod cgroup usage': pick((p) => p.pod.usage),
      'Pod cgroup working set': pick((p) => p.pod.workingSet),
      'Pod working set (kubelet Summary API)': pick((p) => p.summaryPodWorkingSet),
      'watcher cgroup usage': pick((p) => p.watcher.usage),
      'watcher cgroup rss (anonymous)': pick((p) => p.watcher.rss),
      'watcher cgroup cache': pick((p) => p.watcher.cache),
      'watcher working set (kubelet Summary API)': pick((p) => p.summaryWatcherWorkingSet),
      'watcher process RSS': pick((p) => p.watcherProcess.rss),
      'watcher process private (smaps_rollup)': pick((p) => p.watcherProcess.private),
      'watcher process anonymous (smaps_rollup)': pick((p) => p.watcherProcess.anonymous),
      'watcher process PSS': pick((p) => p.watcherProcess.pss),
    },
    readyMs: msSpread(figures.map((p) => p.readyMs)),
    nodeReadyMs: msSpread(figures.map((p) => p.nodeReadyMs)),
    cpuUsedMs: msSpread(figures.map((p) => p.cpu.usedMs)),
    throttledMs: msSpread(figures.map((p) => p.cpu.throttledMs)),
    node,
  };
}

async function settle(): Promise<void> {
  // Startup garbage collected and kubelet's stats refreshed (cAdvisor housekeeping is 10–15 s).
  await sleep(20_000);
}

async function churn(env: NodeEnvironment, settings: FootprintSettings, ref: PodRef): Promise<ChurnFigures> {
  const dir = podCgroup(ref.uid);
  const pid = containerPids(dir, ref.watcherId)[0];
  if (pid === undefined) throw new Error('no watcher process in the churn Pod');
  const volume = `/var/lib/kubelet/pods/${ref.uid}/volumes/kubernetes.io~configmap/config`;
  await settle();
  const idleCpuStart = processCpuSeconds(pid);
  await sleep(30_000);
  const idleCpuMsPerMinute = round((processCpuSeconds(pid) - idleCpuStart) * 1000 * 2);
  const idle = processMemory(pid);
  const idleCgroup = cgroupMemory(join(dir, ref.watcherId));
  const cpuStart = processCpuSeconds(pid);
  const started = Date.now();
  const samples: { changes: number; memory: ProcessMemory }[] = [];
  const quarter = Math.max(1, Math.round(settings.changes / 4));
  for (let i = 1; i <= settings.changes; i++) {
    await atomicWrite(volume, { 'config.txt': `version=${String(i)}\n` }, i);
    await sleep(settings.changeIntervalMs);
    if (i % quarter === 0) samples.push({ changes: i, memory: processMemory(pid) });
  }
  const seconds = (Date.now() - started) / 1000;
  await sleep(3_000);
  const cpu = processCpuSeconds(pid) - cpuStart;
  await settle();
  const log = await containerLog(env.e2e.api, NS, ref.name, 'app');
  return {
    changes: settings.changes,
    notifications: log.filter((l) => l.event === 'reload').length,
    seconds: round(seconds),
    idle,
    after: processMemory(pid),
    samples,
    idleCgroup,
    afterCgroup: cgroupMemory(join(dir, ref.watcherId)),
    cpuMsPerChange: round((cpu * 1000) / settings.changes),
    idleCpuMsPerMinute,
  };
}

/**
 * config-watcher on the node: a Pod without it (control), one driven through many changes, then
 * 1, 10 and 50 Pods with it, each stage measured once everything has settled.
 */
export async function footprintPhase(
  env: NodeEnvironment,
  settings: FootprintSettings,
): Promise<FootprintResults> {
  await env.restrictedNamespace(NS);
  await env.apply(configMap(NS, CONFIG, { 'config.txt': 'version=0\n' }));
  const [control] = await startPods(env, [controlPod()], ['app']);
  const [churned] = await startPods(env, [watcherPod('churn', '20ms')], [WATCHER, 'app']);
  if (!control || !churned) throw new Error('the control and churn Pods did not start');
  const controlDir = podCgroup(control.uid);
  const controlFigures: PodFigures = {
    pod: cgroupMemory(controlDir),
    watcher: { usage: 0, workingSet: 0, rss: 0, cache: 0 },
    summaryPodWorkingSet: (await summary(env)).pods.get('control')?.pod ?? 0,
    summaryWatcherWorkingSet: 0,
    watcherProcess: { rss: 0, pss: 0, private: 0, shared: 0, anonymous: 0, privateDirty: 0 },
    readyMs: 0,
    nodeReadyMs: 0,
    cpu: { usedMs: 0, throttledPeriods: 0, throttledMs: 0 },
  };
  const stages: StageFigures[] = [];
  const refs: PodRef[] = [];
  const baseline = nodeTotals(env);
  const none: [number, number, number] = [0, 0, 0];
  stages.push({
    pods: 0,
    perPod: {},
    readyMs: none,
    nodeReadyMs: none,
    cpuUsedMs: none,
    throttledMs: none,
    node: baseline,
  });
  for (const count of settings.counts) {
    const added = Array.from({ length: count - refs.length }, (_, i) =>
      watcherPod(`w-${String(refs.length + i)}`, '1s'),
    );
    refs.push(...(await startPods(env, added, [WATCHER, 'app'])));
    await settle();
    const s = await summary(env);
    const figures: PodFigures[] = [];
    for (const r of refs) figures.push(await podFigures(env, r, s));
    stages.push(stage(count, figures, nodeTotals(env)));
    process.stderr.write(`footprint: ${String(count)} Pods measured\n`);
  }
  // Last, with the other watchers running, so that the Node binary's pages are shared as they are
  // on a busy node (a lone watcher counts them as its private memory).
  process.stderr.write('footprint: churning the watched directory\n');
  const churnFigures = await churn(env, settings, churned);
  const growthPerPod = [];
  for (let i = 1; i < stages.length; i++) {
    const a = stages[i - 1];
    const b = stages[i];
    if (!a || !b) continue;
    const n = b.pods - a.pods;
    growthPerPod.push({
      from: a.pods,
      to: b.pods,
      totalMiB: round((b.node.total - a.node.total) / n / MiB),
      kubepodsMiB: round((b.node.kubepods.usage - a.node.kubepods.usage) / n / MiB),
      shimsMiB: round((b.node.shimsRss - a.node.shimsRss) / n / MiB),
    });
  }
  const readyMs: Record<string, number[]> = {
    [`host ${process.version}`]: await timeToReady(process.execPath, settings.readyRuns),
  };
  if (settings.imageNode !== undefined)
    readyMs["the image's Node"] = await timeToReady(settings.imageNode, settings.readyRuns);
  const image = env.setup.images.find((i) => i.reference.includes('sidekick-dev/sidekick'));
  const stored = await getPod(env.e2e.api, NS, churned.name);
  const spec = isObject(stored.spec) ? stored.spec : {};
  const injected = (Array.isArray(spec.initContainers) ? spec.initContainers : []).find(
    (c) => isObject(c) && c.name === WATCHER,
  );
  return {
    stages,
    growthPerPod,
    control: controlFigures,
    churn: churnFigures,
    readyMs,
    imageBytes: image ? (await stat(image.path)).size : 0,
    imageReference: image?.reference ?? '(not found)',
    syncFrequency: SYNC_FREQUENCY,
    template: isObject(injected) && isObject(injected.resources) ? injected.resources : {},
  };
}
