import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  V1ObjectMeta,
  V1Secret,
  type KubeConfig,
} from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { generateServingCertificate } from './generate.js';
import {
  applyRotation,
  caBundle,
  planRotation,
  type Phase,
  type RotationPlan,
  type RotationPolicy,
  type StoredCertificates,
} from './rotation.js';
import { decodeSecret, encodeSecret } from './secret-state.js';
import type { CertificateNames, PemSet } from './validity.js';

export interface ClusterCertificateOptions {
  namespace: string;
  secretName: string;
  /** The MutatingWebhookConfiguration whose webhooks get the CA bundle as their caBundle; none for the relay's. */
  webhookConfiguration?: string;
  /** The ValidatingWebhookConfiguration that gets it too, if it exists. */
  validatingWebhookConfiguration?: string;
  names: CertificateNames;
  /** Validity of a new serving certificate (the CA gets ten times as long). */
  validityMs: number;
  policy: RotationPolicy;
  /** The clock, for tests. */
  now?: () => number;
}

export interface ClusterCertificateResult {
  /** What this run did to the Secret. */
  secret: 'created' | 'kept' | 'waiting' | 'replaced' | 'rotation-begun' | 'rotation-advanced';
  phase: Phase;
  /** Why a rotation began or the Secret was replaced. */
  reason?: string;
  /** waiting: when the next run may move the rotation on (ms since the epoch). */
  until?: number;
  /** The webhooks whose caBundle changed; empty when all were already right. */
  patched: string[];
  /** The validating configuration's webhooks that changed; undefined when it does not exist. */
  validatingPatched?: string[];
  /** The CAs the caBundle trusts (PEM, concatenated). */
  ca: string;
  /** Of the certificate the Secret serves, hex. */
  serial: string;
}

/** The field manager of every write, so that GitOps tools can be told to leave its fields alone. */
export const FIELD_MANAGER = 'sidekick-certs';
const LABELS = { 'app.kubernetes.io/name': 'sidekick', 'app.kubernetes.io/managed-by': 'sidekick-certs' };
/** Conflicts (another run, a GitOps tool) are retried with a fresh read this many times. */
const ATTEMPTS = 5;

const b64 = (text: string): string => Buffer.from(text).toString('base64');

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

async function issue(options: ClusterCertificateOptions): Promise<PemSet> {
  const issued = await generateServingCertificate({
    dnsNames: options.names.dnsNames,
    ipAddresses: options.names.ipAddresses ?? [],
    validityMs: options.validityMs,
  });
  return { ca: issued.ca.cert, cert: issued.cert, key: issued.key };
}

function secretBody(options: ClusterCertificateOptions, stored: StoredCertificates, existing?: V1Secret): V1Secret {
  const content = encodeSecret(stored);
  const metadata = new V1ObjectMeta();
  metadata.name = options.secretName;
  metadata.namespace = options.namespace;
  // What others put on the Secret stays; the phase annotations are this program's.
  metadata.labels = { ...existing?.metadata?.labels, ...LABELS };
  metadata.annotations = { ...existing?.metadata?.annotations, ...content.annotations };
  if (existing?.metadata?.resourceVersion !== undefined) metadata.resourceVersion = existing.metadata.resourceVersion;
  const secret = new V1Secret();
  secret.apiVersion = 'v1';
  secret.kind = 'Secret';
  secret.type = 'kubernetes.io/tls';
  secret.metadata = metadata;
  secret.data = content.data;
  return secret;
}

async function readSecret(core: CoreV1Api, options: ClusterCertificateOptions): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ name: options.secretName, namespace: options.namespace });
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

const needsIssue = (plan: RotationPlan): boolean =>
  plan.kind === 'create' || plan.kind === 'replace' || plan.kind === 'begin';

function outcome(plan: RotationPlan): ClusterCertificateResult['secret'] {
  switch (plan.kind) {
    case 'create':
      return 'created';
    case 'replace':
      return 'replaced';
    case 'begin':
      return 'rotation-begun';
    case 'advance':
      return 'rotation-advanced';
    case 'wait':
      return 'waiting';
    case 'keep':
      return 'kept';
  }
}

/** What the Secret holds and what to do with it; a Secret without the TLS keys is replaced. */
function planFor(
  existing: V1Secret | undefined,
  options: ClusterCertificateOptions,
  now: number,
): { stored?: StoredCertificates; plan: RotationPlan } {
  if (!existing) return { plan: planRotation(undefined, options.names, options.policy, now) };
  const decoded = decodeSecret(
    `${options.namespace}/${options.secretName}`,
    existing.data,
    existing.metadata?.annotations,
  );
  if (!decoded.ok) return { plan: { kind: 'replace', reason: decoded.problem } };
  return { stored: decoded.stored, plan: planRotation(decoded.stored, options.names, options.policy, now) };
}

/**
 * Moves the Secret one step of the rotation on (see rotation.ts), with optimistic concurrency:
 * when another run or another writer changed it meanwhile, it is read again and planned anew.
 */
async function advanceSecret(
  core: CoreV1Api,
  options: ClusterCertificateOptions,
): Promise<{ stored: StoredCertificates; plan: RotationPlan }> {
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    const existing = await readSecret(core, options);
    const { stored, plan } = planFor(existing, options, now());
    const issued = needsIssue(plan) ? await issue(options) : undefined;
    const next = applyRotation(stored, plan, now(), issued);
    if (next === undefined) {
      if (!stored) throw new Error(`nothing to keep in Secret ${options.namespace}/${options.secretName}`);
      return { stored, plan };
    }
    try {
      if (existing) {
        await core.replaceNamespacedSecret({
          name: options.secretName,
          namespace: options.namespace,
          body: secretBody(options, next, existing),
          fieldManager: FIELD_MANAGER,
        });
      } else {
        await core.createNamespacedSecret({
          namespace: options.namespace,
          body: secretBody(options, next),
          fieldManager: FIELD_MANAGER,
        });
      }
      return { stored: next, plan };
    } catch (error) {
      if (statusOf(error) !== 409 || attempt >= ATTEMPTS) throw error;
    }
  }
}

interface WebhookConfigurationAccess {
  read: () => Promise<{
    metadata?: { resourceVersion?: string };
    webhooks?: { name: string; clientConfig: { caBundle?: string } }[];
  }>;
  patch: (body: object[]) => Promise<unknown>;
}

/**
 * Sets every webhook's clientConfig.caBundle in the configuration with a JSON patch that tests
 * each webhook's name and carries the resourceVersion read, so that a concurrent edit fails with
 * a conflict (retried on a fresh read) instead of writing the bundle into the wrong webhook.
 */
async function patchCaBundle(access: WebhookConfigurationAccess, bundlePem: string): Promise<string[]> {
  const bundle = b64(bundlePem);
  for (let attempt = 1; ; attempt++) {
    const config = await access.read();
    const patch: object[] = [];
    const patched: string[] = [];
    (config.webhooks ?? []).forEach((webhook, index) => {
      if (webhook.clientConfig.caBundle === bundle) return;
      patch.push({ op: 'test', path: `/webhooks/${String(index)}/name`, value: webhook.name });
      patch.push({ op: 'add', path: `/webhooks/${String(index)}/clientConfig/caBundle`, value: bundle });
      patched.push(webhook.name);
    });
    if (patch.length === 0) return patched;
    const version = config.metadata?.resourceVersion;
    if (version !== undefined) patch.unshift({ op: 'add', path: '/metadata/resourceVersion', value: version });
    try {
      await access.patch(patch);
      return patched;
    } catch (error) {
      if (statusOf(error) !== 409 || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** The validating configuration is optional (an install may leave it out): absent is no error. */
async function patchValidating(
  admission: AdmissionregistrationV1Api,
  name: string,
  bundle: string,
): Promise<string[] | undefined> {
  try {
    return await patchCaBundle(
      {
        read: () => admission.readValidatingWebhookConfiguration({ name }),
        patch: (body) => admission.patchValidatingWebhookConfiguration({ name, body, fieldManager: FIELD_MANAGER }),
      },
      bundle,
    );
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** `sidekick certs` in a cluster: the Secret one step on, then the caBundle that step needs. */
export async function ensureClusterCertificates(
  kubeConfig: KubeConfig,
  options: ClusterCertificateOptions,
): Promise<ClusterCertificateResult> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const { stored, plan } = await advanceSecret(core, options);
  const bundle = caBundle(stored);
  const name = options.webhookConfiguration;
  const patched =
    name === undefined
      ? []
      : await patchCaBundle(
          {
            read: () => admission.readMutatingWebhookConfiguration({ name }),
            patch: (body) => admission.patchMutatingWebhookConfiguration({ name, body, fieldManager: FIELD_MANAGER }),
          },
          bundle,
        );
  const validating =
    options.validatingWebhookConfiguration === undefined
      ? undefined
      : await patchValidating(admission, options.validatingWebhookConfiguration, bundle);
  return {
    secret: outcome(plan),
    phase: stored.phase,
    ...('reason' in plan ? { reason: plan.reason } : {}),
    ...(plan.kind === 'wait' ? { until: plan.until } : {}),
    patched,
    ...(validating === undefined ? {} : { validatingPatched: validating }),
    ca: bundle,
    serial: new X509Certificate(stored.serving.cert).serialNumber,
  };
}
