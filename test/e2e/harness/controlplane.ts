import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneBinaries, type Binaries } from './binaries.js';
import { KubeClient } from './kube.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { writeControlPlanePki, type ControlPlanePki } from './pki.js';
import { freePorts } from './ports.js';
import { forgetOnExit, ManagedProcess, removeOnExit } from './processes.js';
import { waitFor } from './wait.js';

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  server: string;
  /** The admin kubeconfig (client certificate, O=system:masters) on disk and as text. */
  kubeconfigPath: string;
  kubeconfig: string;
  pki: ControlPlanePki;
  /** The admin's raw JSON client. */
  api: KubeClient;
  /** A scratch directory, removed by stop(). */
  dir: string;
  processes: ManagedProcess[];
  /** The last lines of every process's log. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

// kube-controller-manager's controllers the tests need: workloads to Pods, and the default
// ServiceAccount that the apiserver's ServiceAccount admission wants in every namespace.
const CONTROLLERS = [
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'deployment-controller',
  'replicaset-controller',
  'job-controller',
  'cronjob-controller',
];

/**
 * etcd, kube-apiserver (PodSecurity and the admission webhooks on) and kube-controller-manager on
 * free loopback ports, like controller-runtime's envtest. stop() is safe to call in any state.
 */
export interface ControlPlaneOptions {
  /** Writes an AdmissionConfiguration into the scratch directory and returns its path. */
  admissionConfig?: (dir: string) => Promise<string>;
  /** kube-apiserver flags added, or replacing the default of the same name (the node suite's). */
  apiserverFlags?: (dir: string, pki: ControlPlanePki) => Promise<Record<string, string>>;
  /** kube-controller-manager flags added (the cluster benchmark's client rate limits). */
  controllerManagerFlags?: readonly string[];
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = await controlPlaneBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'sidekick-e2e-'));
  removeOnExit(dir);
  const processes: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.stop();
    await rm(dir, { recursive: true, force: true });
    forgetOnExit(dir);
  };
  const logTails = (lines = 30): string =>
    processes.map((p) => `--- ${p.describe()}\n${p.tail(lines)}`).join('\n');
  try {
    const logDir = join(dir, 'logs');
    await mkdir(logDir);
    const pki = await writeControlPlanePki(dir);
    const admissionConfigFile = await options.admissionConfig?.(dir);
    const [etcdPort, peerPort, apiPort, kcmPort] = (await freePorts(4)) as [number, number, number, number];
    const server = `https://127.0.0.1:${String(apiPort)}`;
    const kubeconfig = kubeconfigYaml(server, pki.ca.cert, {
      clientCert: pki.admin.cert,
      clientKey: pki.admin.key,
    });
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });

    const etcd = startEtcd(binaries, dir, logDir, etcdPort, peerPort);
    processes.push(etcd);
    await waitForEtcd(etcd, etcdPort);
    const flags = (await options.apiserverFlags?.(dir, pki)) ?? {};
    const apiserver = startApiserver(
      binaries,
      pki,
      dir,
      logDir,
      apiPort,
      etcdPort,
      admissionConfigFile,
      flags,
    );
    processes.push(apiserver);
    const api = KubeClient.fromYaml(kubeconfig);
    await waitForReady(apiserver, api);
    const kcm = startControllerManager(binaries, pki, dir, logDir, kcmPort, kubeconfigPath, [
      ...(options.controllerManagerFlags ?? []),
    ]);
    processes.push(kcm);
    await waitForDefaultServiceAccount(kcm, api);
    return { server, kubeconfigPath, kubeconfig, pki, api, dir, processes, logTails, stop };
  } catch (error) {
    const tails = logTails();
    await stop();
    throw new Error(`the control plane did not start: ${String(error)}\n${tails}`, { cause: error });
  }
}

function startEtcd(
  bin: Binaries,
  dir: string,
  logDir: string,
  port: number,
  peerPort: number,
): ManagedProcess {
  const client = `http://127.0.0.1:${String(port)}`;
  const peer = `http://127.0.0.1:${String(peerPort)}`;
  return ManagedProcess.start(
    'etcd',
    bin.etcd,
    [
      '--name=e2e',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=e2e=${peer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    { logDir },
  );
}

function startApiserver(
  bin: Binaries,
  pki: ControlPlanePki,
  dir: string,
  logDir: string,
  port: number,
  etcdPort: number,
  admissionConfigFile: string | undefined,
  flags: Record<string, string>,
): ManagedProcess {
  const args = [
    `--etcd-servers=http://127.0.0.1:${String(etcdPort)}`,
    `--cert-dir=${join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.servingCertFile}`,
    `--tls-private-key-file=${pki.servingKeyFile}`,
    `--client-ca-file=${pki.caFile}`,
    `--secure-port=${String(port)}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    // A configuration value for Service IPs, never contacted.
    '--service-cluster-ip-range=10.0.0.0/24',
    `--service-account-issuer=https://127.0.0.1:${String(port)}`,
    `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${pki.serviceAccountPrivateKeyFile}`,
    '--authorization-mode=RBAC',
    '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
    '--enable-priority-and-fairness=false',
    ...(admissionConfigFile === undefined ? [] : [`--admission-control-config-file=${admissionConfigFile}`]),
    '--v=1',
  ];
  const named = (arg: string): string => arg.slice(0, arg.indexOf('='));
  const kept = args.filter((arg) => !(named(arg).slice(2) in flags));
  const added = Object.entries(flags).map(([name, value]) => `--${name}=${value}`);
  return ManagedProcess.start('kube-apiserver', bin.kubeApiserver, [...kept, ...added], { logDir });
}

function startControllerManager(
  bin: Binaries,
  pki: ControlPlanePki,
  dir: string,
  logDir: string,
  port: number,
  kubeconfigPath: string,
  extraFlags: readonly string[],
): ManagedProcess {
  return ManagedProcess.start(
    'kube-controller-manager',
    bin.kubeControllerManager,
    [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--leader-elect=false',
      `--controllers=${CONTROLLERS.join(',')}`,
      `--service-account-private-key-file=${pki.serviceAccountPrivateKeyFile}`,
      `--root-ca-file=${pki.caFile}`,
      '--use-service-account-credentials=false',
      // Authentication of its own (health) endpoint from flags only, not kube-system's ConfigMap.
      '--authentication-skip-lookup=true',
      '--bind-address=127.0.0.1',
      `--secure-port=${String(port)}`,
      `--cert-dir=${join(dir, 'kcm-certs')}`,
      '--v=1',
      ...extraFlags,
    ],
    { logDir },
  );
}

function exited(process: ManagedProcess): () => string | undefined {
  return () => (process.running ? undefined : process.describe());
}

async function waitForEtcd(etcd: ManagedProcess, port: number): Promise<void> {
  await waitFor(
    async () => {
      const response = await fetch(`http://127.0.0.1:${String(port)}/health`);
      const body = (await response.json()) as { health?: unknown };
      return body.health === 'true' ? true : undefined;
    },
    { timeoutMs: 30_000, what: 'etcd /health', stopIf: exited(etcd) },
  );
}

async function waitForReady(apiserver: ManagedProcess, api: KubeClient): Promise<void> {
  await waitFor(
    async () => {
      const response = await api.request('GET', '/readyz');
      return response.status === 200 ? true : undefined;
    },
    { timeoutMs: 60_000, what: 'kube-apiserver /readyz', stopIf: exited(apiserver) },
  );
}

/** The controllers are working once the ServiceAccount controller has made `default/default`. */
async function waitForDefaultServiceAccount(kcm: ManagedProcess, api: KubeClient): Promise<void> {
  await waitFor(
    async () => {
      const response = await api.request('GET', '/api/v1/namespaces/default/serviceaccounts/default');
      return response.status === 200 ? true : undefined;
    },
    {
      timeoutMs: 60_000,
      what: 'the default ServiceAccount from kube-controller-manager',
      stopIf: exited(kcm),
    },
  );
}
