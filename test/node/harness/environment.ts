// The node suite's cluster: the e2e suite's control plane and webhook (deploy/base applied, the
// real `sidekick serve` behind its MutatingWebhookConfiguration), with the Node authorizer on and
// a real node (KubeNode) whose logs and exec the apiserver reaches on the node's address.
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateServingCertificate } from '../../../src/certs/generate.js';
import type { JsonObject } from '../../../src/json.js';
import { writeCertificate } from '../../support/certificates.js';
import { E2eEnvironment, INJECTION_LABEL } from '../../e2e/harness/environment.js';
import type { Programs } from '../setup/programs.js';
import type { BuiltImage } from '../setup/images.js';
import { KubeNode } from './node.js';

export interface NodeSetup {
  programs: Programs;
  images: BuiltImage[];
}

export const RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted' };
/**
 * kubelet resyncs Pods, and so refreshes mounted ConfigMaps, this often. The suite uses 10s so that
 * its kubelet-mode cases take seconds, not minutes; SIDEKICK_NODE_SYNC_FREQUENCY=1m (kubelet's
 * default) is the run mode that measures relay mode against kubelet as shipped (bench/README.md).
 */
export const SYNC_FREQUENCY = syncFrequency(process.env.SIDEKICK_NODE_SYNC_FREQUENCY);
function syncFrequency(value: string | undefined): string {
  if (value === undefined || value === '') return '10s';
  if (!/^[1-9][0-9]*(s|m)$/.test(value))
    throw new Error(`SIDEKICK_NODE_SYNC_FREQUENCY=${value}: expected seconds or minutes, e.g. 10s or 1m`);
  return value;
}

/** SYNC_FREQUENCY in milliseconds. */
export function syncFrequencyMs(): number {
  const amount = Number(SYNC_FREQUENCY.slice(0, -1));
  return SYNC_FREQUENCY.endsWith('m') ? amount * 60_000 : amount * 1000;
}

export function nodeDir(): string {
  const dir = process.env.SIDEKICK_NODE_DIR;
  if (dir === undefined || dir === '')
    throw new Error('SIDEKICK_NODE_DIR is not set: run the suite with npm run test:node');
  return dir;
}

export class NodeEnvironment {
  readonly e2e: E2eEnvironment;
  node!: KubeNode;
  setup!: NodeSetup;

  constructor() {
    this.e2e = new E2eEnvironment({
      apiserverFlags: async (dir, pki) => {
        // The apiserver reaches kubelet (logs, exec) on its InternalIP, verifying its certificate.
        const client = await generateServingCertificate({
          ca: pki.ca,
          days: 2,
          dnsNames: ['kube-apiserver-kubelet-client'],
          organization: 'system:masters',
          usage: 'client',
        });
        const files = await writeCertificate(dir, client, 'kubelet-client');
        return {
          'authorization-mode': 'Node,RBAC',
          'enable-admission-plugins':
            'NamespaceLifecycle,ServiceAccount,NodeRestriction,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
          'kubelet-preferred-address-types': 'InternalIP',
          'kubelet-certificate-authority': pki.caFile,
          'kubelet-client-certificate': files.certFile,
          'kubelet-client-key': files.keyFile,
        };
      },
    });
  }

  async setUp(): Promise<void> {
    const dir = nodeDir();
    const nodeIp = process.env.SIDEKICK_NODE_IP ?? '';
    this.setup = JSON.parse(await readFile(join(dir, 'setup', 'setup.json'), 'utf8')) as NodeSetup;
    await this.e2e.setUp();
    const keep = process.env.SIDEKICK_NODE_LOGS;
    if (keep !== undefined && keep !== '') {
      // Runs last, once the node and its Pods are gone: every process's whole log, for a post-mortem.
      this.e2e.onTearDown(() => cp(join(this.e2e.cp.dir, 'logs'), keep, { recursive: true }));
    }
    const node = await KubeNode.start(this.e2e.cp, {
      dir,
      nodeIp,
      kubelet: this.setup.programs.kubelet,
      images: this.setup.images,
      syncFrequency: SYNC_FREQUENCY,
    });
    this.node = node;
    // The node stops before the control plane, its Pods deleted through the API.
    this.e2e.onTearDown(() => node.stop(this.e2e.cp));
  }

  logTails(lines: number): string {
    return (this.e2e.cp as typeof this.e2e.cp | undefined)?.logTails(lines) ?? '(no control plane)';
  }

  async tearDown(): Promise<void> {
    await this.e2e.tearDown();
  }

  /** A namespace opted in to injection and enforcing the restricted Pod Security profile. */
  async restrictedNamespace(name: string, injected = true): Promise<void> {
    await this.e2e.createNamespace(name, { ...(injected ? INJECTION_LABEL : {}), ...RESTRICTED });
  }

  test(name: string, body: () => Promise<void>, timeout = 180_000): void {
    this.e2e.test(name, body, timeout);
  }

  apply(object: JsonObject): Promise<JsonObject> {
    return this.e2e.api.apply(object);
  }
}
