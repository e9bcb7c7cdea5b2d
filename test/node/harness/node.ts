// One real node: Debian's containerd and runc, the CNI bridge plugin, and kubelet built from the
// same Kubernetes release as the control plane. It runs inside the suite's network and mount
// namespaces (test/node/run.sh), so its fixed paths are tmpfs mounts nobody else sees.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { generateServingCertificate } from '../../../src/certs/generate.js';
import { isObject, type JsonObject } from '../../../src/json.js';
import type { ControlPlane } from '../../e2e/harness/controlplane.js';
import { kubeconfigYaml } from '../../e2e/harness/kubeconfig.js';
import { ManagedProcess } from '../../e2e/harness/processes.js';
import { waitFor } from '../../e2e/harness/wait.js';
import type { BuiltImage } from '../setup/images.js';
import { PAUSE_IMAGE } from '../setup/images.js';

export const NODE_NAME = 'sidekick-node';
const RUN = '/run/sidekick';
const SOCKET = `${RUN}/containerd.sock`;
const POD_SUBNET = '10.88.0.0/24';
/**
 * Pods have no default route, only their bridge subnet: they reach the suite's own servers on the
 * bridge's gateway address (the CNI bridge plugin's isGateway, the first address of POD_SUBNET).
 */
export const POD_GATEWAY = '10.88.0.1';

export interface NodeOptions {
  dir: string;
  nodeIp: string;
  kubelet: string;
  images: readonly BuiltImage[];
  /** How often kubelet resyncs Pods, and so refreshes ConfigMap volumes. */
  syncFrequency: string;
}

function containerdConfig(dir: string, cniConfDir: string): string {
  return `version = 2
root = "${dir}/root"
state = "${RUN}/containerd-state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${SOCKET}"
[ttrpc]
  address = "${SOCKET}.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # This machine lacks CAP_SYS_RESOURCE: runc may only raise oom_score_adj within its own.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConfDir}"
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'sidekick-node',
    plugins: [
      {
        type: 'bridge',
        bridge: 'sk-cni0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], dataDir: join(dir, 'ipam') },
      },
    ],
  });
}

function kubeletConfig(
  options: NodeOptions,
  files: { ca: string; cert: string; key: string; resolv: string },
): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: options.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: files.ca },
    },
    authorization: { mode: 'Webhook' },
    tlsCertFile: files.cert,
    tlsPrivateKeyFile: files.key,
    // This machine has cgroup v1 and no systemd to delegate to.
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    containerRuntimeEndpoint: `unix://${SOCKET}`,
    syncFrequency: options.syncFrequency,
    // No cluster DNS and no nameserver: nothing in a Pod can resolve a name outside.
    resolvConf: files.resolv,
    clusterDomain: 'cluster.local',
    failSwapOn: false,
    protectKernelDefaults: false,
    // The disk is shared and its free space is not the suite's business.
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'imagefs.available': '1%',
      'nodefs.inodesFree': '1%',
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
  });
}

function ctr(args: string[]): string {
  const result = spawnSync('ctr', ['--address', SOCKET, '--namespace', 'k8s.io', ...args], {
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(`ctr ${args.join(' ')} failed: ${result.stderr || String(result.error)}`);
  return result.stdout;
}

/**
 * The IDs of every container containerd holds for Pod namespace/name, its sandbox included: what
 * kubelet created for it, whether or not the API still has the Pod.
 */
export function containersOfPod(namespace: string, name: string): string[] {
  const filter = `labels."io.kubernetes.pod.namespace"==${namespace},labels."io.kubernetes.pod.name"==${name}`;
  return ctr(['containers', 'list', '--quiet', filter])
    .split('\n')
    .filter((id) => id !== '');
}

/** The PIDs of the shims serving this node's containerd: one per Pod, outside the Pods' cgroups, and they outlive containerd itself. */
export function shimPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('containerd-shim') && cmdline.includes(SOCKET)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export class KubeNode {
  private constructor(
    readonly containerd: ManagedProcess,
    readonly kubelet: ManagedProcess,
    readonly startedMs: number,
    readonly readyMs: number,
  ) {}

  /** Starts containerd, imports the images, starts kubelet and waits for the Node to be Ready. */
  static async start(cp: ControlPlane, options: NodeOptions): Promise<KubeNode> {
    try {
      return await KubeNode.startIn(cp, options);
    } catch (error) {
      // The control plane stops the processes it was given; the shims are this node's own.
      killShims();
      throw error;
    }
  }

  /** Each process joins the control plane's as it starts: their logs, and the stop of last resort. */
  private static async startIn(cp: ControlPlane, options: NodeOptions): Promise<KubeNode> {
    const started = Date.now();
    const dir = join(options.dir, 'node');
    const logDir = join(cp.dir, 'logs');
    await mkdir(join(dir, 'net.d'), { recursive: true });
    await mkdir(RUN, { recursive: true });
    await writeFile(
      join(dir, 'containerd.toml'),
      containerdConfig(join(dir, 'containerd'), join(dir, 'net.d')),
    );
    await writeFile(join(dir, 'net.d', '10-sidekick-node.conflist'), cniConfig(dir));
    const containerd = ManagedProcess.start(
      'containerd',
      'containerd',
      ['--config', join(dir, 'containerd.toml')],
      { logDir },
    );
    cp.processes.push(containerd);
    await waitFor(
      () =>
        Promise.resolve(spawnSync('ctr', ['--address', SOCKET, 'version']).status === 0 ? true : undefined),
      {
        timeoutMs: 30_000,
        what: 'containerd to answer on its socket',
        stopIf: () => (containerd.running ? undefined : `${containerd.describe()}\n${containerd.tail()}`),
      },
    );
    for (const image of options.images) ctr(['images', 'import', '--snapshotter', 'overlayfs', image.path]);

    const serving = await generateServingCertificate({
      ca: cp.pki.ca,
      days: 2,
      dnsNames: [NODE_NAME],
      ipAddresses: [options.nodeIp],
    });
    const client = await generateServingCertificate({
      ca: cp.pki.ca,
      days: 2,
      dnsNames: [NODE_NAME],
      commonName: `system:node:${NODE_NAME}`,
      organization: 'system:nodes',
      usage: 'client',
    });
    const files = {
      ca: cp.pki.caFile,
      cert: join(dir, 'kubelet.crt'),
      key: join(dir, 'kubelet.key'),
      resolv: join(dir, 'resolv.conf'),
    };
    await writeFile(files.cert, serving.cert);
    await writeFile(files.key, serving.key, { mode: 0o600 });
    await writeFile(files.resolv, '# no nameservers: Pods of the node suite resolve nothing outside\n');
    await writeFile(join(dir, 'kubelet.yaml'), kubeletConfig(options, files));
    await writeFile(
      join(dir, 'kubelet.kubeconfig'),
      kubeconfigYaml(cp.server, cp.pki.ca.cert, { clientCert: client.cert, clientKey: client.key }),
      { mode: 0o600 },
    );
    const kubelet = ManagedProcess.start(
      'kubelet',
      options.kubelet,
      [
        `--config=${join(dir, 'kubelet.yaml')}`,
        `--kubeconfig=${join(dir, 'kubelet.kubeconfig')}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${options.nodeIp}`,
        '--v=1',
      ],
      { logDir },
    );
    cp.processes.push(kubelet);
    await waitFor(
      async () => {
        const node = await cp.api.get(`/api/v1/nodes/${NODE_NAME}`);
        return nodeReady(node) ? true : undefined;
      },
      {
        timeoutMs: 90_000,
        what: `Node ${NODE_NAME} to be Ready`,
        stopIf: () => (kubelet.running ? undefined : `${kubelet.describe()}\n${kubelet.tail(60)}`),
      },
    );
    return new KubeNode(containerd, kubelet, started, Date.now());
  }

  /** The images containerd holds for kubelet, by reference. */
  images(): string[] {
    return ctr(['images', 'ls', '--quiet'])
      .split('\n')
      .filter((line) => line.trim() !== '');
  }

  /** Running containers of the node, as containerd counts them. */
  tasks(): string[] {
    return ctr(['tasks', 'ls', '--quiet'])
      .split('\n')
      .filter((line) => line.trim() !== '');
  }

  /**
   * Stops every Pod through the API, waits for containerd to have no task left, then stops
   * kubelet, containerd and the shims, each by PID.
   */
  async stop(cp: ControlPlane): Promise<void> {
    if (this.kubelet.running && cp.processes.every((p) => p.running)) {
      await deleteAllPods(cp).catch((error: unknown) => {
        process.stderr.write(`node teardown: deleting the Pods failed: ${String(error)}\n`);
      });
      await waitFor(() => Promise.resolve(this.tasks().length === 0 ? true : undefined), {
        timeoutMs: 60_000,
        what: 'containerd to have no task left',
      }).catch((error: unknown) => {
        process.stderr.write(`node teardown: ${String(error)}\n`);
      });
    }
    await this.kubelet.stop();
    await this.containerd.stop();
    killShims();
    await sleep(200);
  }
}

function killShims(): void {
  for (const pid of shimPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function nodeReady(node: JsonObject): boolean {
  const conditions =
    isObject(node.status) && Array.isArray(node.status.conditions) ? node.status.conditions : [];
  return conditions.some((c) => isObject(c) && c.type === 'Ready' && c.status === 'True');
}

async function deleteAllPods(cp: ControlPlane): Promise<void> {
  const list = await cp.api.get('/api/v1/pods');
  const items = Array.isArray(list.items) ? list.items.filter(isObject) : [];
  for (const item of items) {
    const meta = isObject(item.metadata) ? item.metadata : {};
    if (typeof meta.namespace !== 'string' || typeof meta.name !== 'string') continue;
    const spec = isObject(item.spec) ? item.spec : {};
    if (spec.nodeName !== NODE_NAME) continue;
    await cp.api.request('DELETE', `/api/v1/namespaces/${meta.namespace}/pods/${meta.name}`, {
      query: { gracePeriodSeconds: '5' },
    });
  }
}
