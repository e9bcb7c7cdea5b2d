import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { isObject, type JsonObject } from '../../../src/json.js';
import { kustomizeBuild } from '../../tools/tools.js';

/**
 * The objects of a kustomization as `kubectl apply -k` would apply them: the real kustomize's
 * `build` output (test/tools), in its order.
 */
export function loadKustomization(dir: string, version?: string): Promise<JsonObject[]> {
  return Promise.resolve(kustomizeBuild(dir, version));
}

export async function loadManifest(path: string): Promise<JsonObject[]> {
  const objects: JsonObject[] = [];
  for (const doc of parseAllDocuments(await readFile(path, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isObject(value) || typeof value.kind !== 'string')
      throw new Error(`${path}: not a Kubernetes object`);
    objects.push(value);
  }
  return objects;
}

/**
 * A MutatingWebhookConfiguration pointed at a local server, as envtest does: every webhook's
 * clientConfig becomes `url` + `caBundle`; nothing else changes.
 */
export function withLocalClientConfig(config: JsonObject, url: string, caPem: string): JsonObject {
  const copy = structuredClone(config);
  const webhooks = Array.isArray(copy.webhooks) ? copy.webhooks : [];
  for (const webhook of webhooks) {
    if (!isObject(webhook)) throw new Error('a webhook that is not an object');
    webhook.clientConfig = { url, caBundle: Buffer.from(caPem).toString('base64') };
  }
  return copy;
}

/**
 * deploy/'s webhook configurations pointed at a local server: each webhook's service becomes
 * `url` (the server's origin and the service's path) + `caBundle`; without `caPem`, the caBundle
 * the rendering has (Helm's certificates.mode=provided) or none (as in Git, where sidekick certs
 * or cert-manager's CA injector fills it); nothing else changes.
 */
export function withLocalServices(config: JsonObject, origin: string, caPem?: string): JsonObject {
  const copy = structuredClone(config);
  for (const webhook of Array.isArray(copy.webhooks) ? copy.webhooks : []) {
    if (!isObject(webhook) || !isObject(webhook.clientConfig))
      throw new Error('a webhook without clientConfig');
    const { service, caBundle } = webhook.clientConfig;
    const path = isObject(service) && typeof service.path === 'string' ? service.path : '/';
    const bundle = caPem !== undefined ? Buffer.from(caPem).toString('base64') : caBundle;
    webhook.clientConfig = {
      url: `${origin}${path}`,
      ...(typeof bundle === 'string' ? { caBundle: bundle } : {}),
    };
  }
  return copy;
}

/**
 * The namespace a Helm install needs first (`kubectl create namespace sidekick` and its Pod
 * Security labels, as the chart's README says): the chart has no Namespace of its own.
 */
export const CHART_NAMESPACE: JsonObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: 'sidekick',
    labels: {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    },
  },
};

/**
 * A configuration of one webhook on Pod CREATE, served locally at `url` (a test's own), failing
 * closed; `webhook` adds or overrides its fields (namespaceSelector, reinvocationPolicy…).
 */
export function podWebhookConfiguration(
  name: string,
  webhookName: string,
  server: { url: string; caPem: string },
  webhook: JsonObject,
): JsonObject {
  return withLocalClientConfig(
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name },
      webhooks: [
        {
          name: webhookName,
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          ...webhook,
        },
      ],
    },
    server.url,
    server.caPem,
  );
}
