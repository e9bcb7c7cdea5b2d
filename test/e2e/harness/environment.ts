import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { isObject, type JsonObject } from '../../../src/json.js';
import { builtinTemplateDir, loadTemplateDir } from '../../../src/templates/load.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './controlplane.js';
import { Injector, loopbackServingPair, type TlsPair } from './injector.js';
import { KubeError, type KubeClient, type KubeResult } from './kube.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { loadKustomization, withLocalServices } from './manifests.js';
import { repoPath } from '../../support/paths.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';
import { writeWebhookClientAuth, type WebhookClientAuth } from './webhook-client.js';

export const INJECTION_LABEL = { 'sidekick.dev/injection': 'enabled' };
export const WEBHOOK = 'inject.sidekick.dev';

export const podsPath = (namespace: string): string => `/api/v1/namespaces/${namespace}/pods`;

/**
 * One control plane for the whole suite, with the real `sidekick serve` registered through
 * deploy/base's webhook configurations (clientConfig rewritten to its local url and CA).
 * Fields are set by setUp(), which the suite's `before` hook runs.
 */
export class E2eEnvironment {
  cp!: ControlPlane;
  api!: KubeClient;
  templates!: TemplateSet;
  /** The certificate the injector serves with, signed by the control plane's CA. */
  webhookTls!: TlsPair;
  injector!: Injector;
  /** The apiserver presents a client certificate to https://127.0.0.1:<its port> (cases/mtls.ts). */
  webhookClient!: WebhookClientAuth;
  private readonly teardown: (() => Promise<void>)[] = [];

  /** `apiserverFlags`: the node suite's additions to the control plane; the benchmark's kcm flags. */
  constructor(
    private readonly options: Pick<ControlPlaneOptions, 'apiserverFlags' | 'controllerManagerFlags'> & {
      /** What is installed (default: kustomize's build of deploy/base). */
      manifests?: () => Promise<JsonObject[]>;
    } = {},
  ) {}

  async setUp(): Promise<void> {
    const loaded = await loadTemplateDir(builtinTemplateDir());
    if (!loaded.ok) throw new Error(`the built-in templates do not load: ${loaded.problems.join('; ')}`);
    this.templates = loaded.set;
    this.cp = await startControlPlane({
      ...this.options,
      admissionConfig: async (dir) => {
        this.webhookClient = await writeWebhookClientAuth(dir, await freePort());
        return this.webhookClient.admissionConfigFile;
      },
    });
    this.api = this.cp.api;
    this.webhookTls = await loopbackServingPair(this.cp.pki.ca, this.cp.dir, 'webhook');
    this.injector = await this.startInjector(this.webhookTls);
    const manifests = this.options.manifests ?? (() => loadKustomization(repoPath('deploy/base')));
    for (const object of await manifests()) {
      const local =
        object.kind === 'MutatingWebhookConfiguration' || object.kind === 'ValidatingWebhookConfiguration'
          ? withLocalServices(object, this.injector.origin, this.webhookTls.ca)
          : object;
      await this.api.apply(local);
    }
  }

  /** Everything stops, in reverse order, whether or not setUp finished. */
  async tearDown(): Promise<void> {
    for (const step of this.teardown.reverse()) await step();
    await (this.cp as ControlPlane | undefined)?.stop();
  }

  onTearDown(step: () => Promise<void>): void {
    this.teardown.push(step);
  }

  /** `sidekick serve` on the given port (or a free one); the control plane stops it at the end. */
  async startInjector(tls: TlsPair, port?: number, clientCaFile?: string): Promise<Injector> {
    const logDir = join(this.cp.dir, 'logs');
    const started = await Injector.start({
      tls,
      logDir,
      ...(port === undefined ? {} : { port }),
      ...(clientCaFile === undefined ? {} : { clientCaFile }),
    });
    this.cp.processes.push(started.process);
    return started;
  }

  /** A test that prints every process's log tail when it fails. */
  test(name: string, body: () => Promise<void>, timeout = 120_000): void {
    void it(name, { timeout }, async () => {
      try {
        await body();
      } catch (error) {
        const tails = (this.cp as ControlPlane | undefined)?.logTails(40) ?? '(no control plane)';
        process.stderr.write(`\n--- logs after the failure of "${name}":\n${tails}\n`);
        throw error;
      }
    });
  }

  /** A kubeconfig file that authenticates as a ServiceAccount, with a token valid for ten minutes. */
  async serviceAccountKubeconfig(namespace: string, account: string, file: string): Promise<void> {
    const token = await this.api.create(`/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 600 },
    });
    const status = token.object.status;
    if (!isObject(status) || typeof status.token !== 'string') throw new Error(`no token for ${account}`);
    await writeFile(
      file,
      kubeconfigYaml(this.cp.server, this.cp.pki.ca.cert, { token: status.token }, namespace),
    );
  }

  async createNamespace(name: string, labels: Record<string, string>): Promise<void> {
    await this.api.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels },
    });
    // The apiserver's ServiceAccount admission refuses Pods until the controller made `default`.
    await waitFor(
      async () =>
        (await this.api.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200
          ? true
          : undefined,
      { timeoutMs: 30_000, what: `ServiceAccount ${name}/default` },
    );
  }

  createPod(namespace: string, object: JsonObject, query: Record<string, string> = {}): Promise<KubeResult> {
    return this.api.create(podsPath(namespace), object, query);
  }

  /** Pods that a controller created, found by label once there are `count` of them. */
  podsWithLabel(namespace: string, selector: string, count = 1, timeoutMs = 90_000): Promise<JsonObject[]> {
    return waitFor(
      async () => {
        const list = await this.api.get(
          `${podsPath(namespace)}?labelSelector=${encodeURIComponent(selector)}`,
        );
        const items = Array.isArray(list.items) ? list.items.filter(isObject) : [];
        return items.length >= count ? items : undefined;
      },
      { timeoutMs, what: `${String(count)} Pod(s) with ${selector} in ${namespace}` },
    );
  }
}

/** The apiserver's refusal of a call that must fail; fails the test when it succeeds. */
export async function rejection(promise: Promise<unknown>): Promise<KubeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KubeError) return error;
    throw error;
  }
  throw new Error('the apiserver accepted what it should have refused');
}
