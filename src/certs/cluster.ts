import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  V1ObjectMeta,
  V1Secret,
  type KubeConfig,
} from '@kubernetes/client-node';
import { generateServingCertificate } from './generate.js';
import { certificateProblem, type CertificateNames, type PemSet } from './validity.js';

export interface ClusterCertificateOptions {
  namespace: string;
  secretName: string;
  /** The MutatingWebhookConfiguration whose webhooks get the CA as their caBundle. */
  webhookConfiguration: string;
  /** The ValidatingWebhookConfiguration that gets it too, if it exists. */
  validatingWebhookConfiguration?: string;
  names: CertificateNames;
  days?: number;
  force?: boolean;
}

export interface ClusterCertificateResult {
  secret: 'kept' | 'created' | 'renewed' | 'taken';
  /** Why an existing Secret was replaced. */
  reason?: string;
  /** The webhooks whose caBundle changed; empty when all were already right. */
  patched: string[];
  /** The validating configuration's webhooks that changed; undefined when it does not exist. */
  validatingPatched?: string[];
  ca: string;
}

const LABELS = { 'app.kubernetes.io/name': 'sidekick', 'app.kubernetes.io/managed-by': 'sidekick-certs' };

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined): string | undefined =>
  text === undefined ? undefined : Buffer.from(text, 'base64').toString('utf8');

function pemsOf(secret: V1Secret): PemSet | undefined {
  const ca = unb64(secret.data?.['ca.crt']);
  const cert = unb64(secret.data?.['tls.crt']);
  const key = unb64(secret.data?.['tls.key']);
  return ca && cert && key ? { ca, cert, key } : undefined;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

async function issue(options: ClusterCertificateOptions): Promise<PemSet> {
  const issued = await generateServingCertificate({
    dnsNames: options.names.dnsNames,
    ipAddresses: options.names.ipAddresses ?? [],
    ...(options.days === undefined ? {} : { days: options.days }),
  });
  return { ca: issued.ca.cert, cert: issued.cert, key: issued.key };
}

function secretBody(options: ClusterCertificateOptions, pems: PemSet, resourceVersion?: string): V1Secret {
  const metadata = new V1ObjectMeta();
  metadata.name = options.secretName;
  metadata.namespace = options.namespace;
  metadata.labels = { ...LABELS };
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  const secret = new V1Secret();
  secret.apiVersion = 'v1';
  secret.kind = 'Secret';
  secret.type = 'kubernetes.io/tls';
  secret.metadata = metadata;
  secret.data = { 'ca.crt': b64(pems.ca), 'tls.crt': b64(pems.cert), 'tls.key': b64(pems.key) };
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

/**
 * The Secret with the CA and the serving certificate: created when absent, kept while good,
 * replaced (with optimistic concurrency) when it no longer serves the names or is about to expire.
 * When two runs race to create it, the loser takes the winner's.
 */
async function ensureSecret(
  core: CoreV1Api,
  options: ClusterCertificateOptions,
): Promise<{ pems: PemSet; secret: ClusterCertificateResult['secret']; reason?: string }> {
  const existing = await readSecret(core, options);
  if (!existing) {
    const pems = await issue(options);
    try {
      await core.createNamespacedSecret({ namespace: options.namespace, body: secretBody(options, pems) });
      return { pems, secret: 'created' };
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      const winner = await readSecret(core, options);
      const winnerPems = winner && pemsOf(winner);
      if (!winnerPems) throw error;
      return { pems: winnerPems, secret: 'taken' };
    }
  }
  const kept = pemsOf(existing);
  const problem = options.force
    ? 'a new certificate was asked for'
    : kept
      ? certificateProblem(kept, options.names)
      : `Secret ${options.namespace}/${options.secretName} lacks ca.crt, tls.crt or tls.key`;
  if (kept && problem === undefined) return { pems: kept, secret: 'kept' };
  const pems = await issue(options);
  await core.replaceNamespacedSecret({
    name: options.secretName,
    namespace: options.namespace,
    body: secretBody(options, pems, existing.metadata?.resourceVersion),
  });
  return { pems, secret: 'renewed', ...(problem === undefined ? {} : { reason: problem }) };
}

interface WebhookConfigurationAccess {
  read: () => Promise<{ webhooks?: { name: string; clientConfig: { caBundle?: string } }[] }>;
  patch: (body: object[]) => Promise<unknown>;
}

/**
 * Sets every webhook's clientConfig.caBundle in the configuration with a JSON patch that tests
 * each webhook's name first, so that a concurrent edit that reorders them fails instead of
 * writing the bundle into the wrong webhook.
 */
async function patchCaBundle(access: WebhookConfigurationAccess, ca: string): Promise<string[]> {
  const config = await access.read();
  const bundle = b64(ca);
  const patch: object[] = [];
  const patched: string[] = [];
  (config.webhooks ?? []).forEach((webhook, index) => {
    if (webhook.clientConfig.caBundle === bundle) return;
    patch.push({ op: 'test', path: `/webhooks/${String(index)}/name`, value: webhook.name });
    patch.push({ op: 'add', path: `/webhooks/${String(index)}/clientConfig/caBundle`, value: bundle });
    patched.push(webhook.name);
  });
  if (patch.length > 0) await access.patch(patch);
  return patched;
}

/** The validating configuration is optional (an install may leave it out): absent is no error. */
async function patchValidating(
  admission: AdmissionregistrationV1Api,
  name: string,
  ca: string,
): Promise<string[] | undefined> {
  try {
    return await patchCaBundle(
      {
        read: () => admission.readValidatingWebhookConfiguration({ name }),
        patch: (body) => admission.patchValidatingWebhookConfiguration({ name, body }),
      },
      ca,
    );
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

/** `sidekick certs` in a cluster: the Secret, then the caBundle. */
export async function ensureClusterCertificates(
  kubeConfig: KubeConfig,
  options: ClusterCertificateOptions,
): Promise<ClusterCertificateResult> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const { pems, secret, reason } = await ensureSecret(core, options);
  const name = options.webhookConfiguration;
  const patched = await patchCaBundle(
    {
      read: () => admission.readMutatingWebhookConfiguration({ name }),
      patch: (body) => admission.patchMutatingWebhookConfiguration({ name, body }),
    },
    pems.ca,
  );
  const validating =
    options.validatingWebhookConfiguration === undefined
      ? undefined
      : await patchValidating(admission, options.validatingWebhookConfiguration, pems.ca);
  return {
    secret,
    patched,
    ...(validating === undefined ? {} : { validatingPatched: validating }),
    ca: pems.ca,
    ...(reason === undefined ? {} : { reason }),
  };
}
