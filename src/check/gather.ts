import { isArray, isObject, type JsonObject } from '../json.js';
import { isTemplateFile, parseTemplateFiles } from '../templates/load.js';
import type { TemplateSet } from '../templates/types.js';
import { ApiError, type RawApi } from './raw-api.js';
import { webhookHealth, type WebhookHealth } from './webhook-health.js';

/** What `sidekick check` reads from the cluster, read-only, before judging any of it. */
export interface ClusterSnapshot {
  webhooks: WebhookHealth[];
  namespaces: JsonObject[];
  /** Workloads with a Pod template of their own (not the ReplicaSets of a Deployment). */
  workloads: JsonObject[];
  pods: JsonObject[];
  /** The templates the server runs with (its ConfigMap), or why they could not be read. */
  current: TemplateSet | string;
}

export interface GatherOptions {
  /** sidekick's namespace. */
  namespace: string;
  webhook: string;
  validatingWebhook: string;
  secret: string;
  templatesConfigMap: string;
  /** The server's `--image`, which the templates' hash includes. */
  image?: string;
}

const WORKLOADS: readonly [string, string][] = [
  ['/apis/apps/v1/deployments', 'Deployment'],
  ['/apis/apps/v1/statefulsets', 'StatefulSet'],
  ['/apis/apps/v1/daemonsets', 'DaemonSet'],
  ['/apis/apps/v1/replicasets', 'ReplicaSet'],
  ['/apis/batch/v1/jobs', 'Job'],
  ['/apis/batch/v1/cronjobs', 'CronJob'],
];

/** A ReplicaSet of a Deployment, a Job of a CronJob: their template is their owner's. */
function ownedByWorkload(object: JsonObject): boolean {
  const meta = isObject(object.metadata) ? object.metadata : {};
  const owners = isArray(meta.ownerReferences) ? meta.ownerReferences.filter(isObject) : [];
  return owners.some((o) => o.controller === true && (o.kind === 'Deployment' || o.kind === 'CronJob'));
}

async function configuration(
  api: RawApi,
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration',
  name: string,
  secret: string,
): Promise<WebhookHealth[]> {
  const resource =
    kind === 'MutatingWebhookConfiguration'
      ? 'mutatingwebhookconfigurations'
      : 'validatingwebhookconfigurations';
  try {
    const config = await api.get(`/apis/admissionregistration.k8s.io/v1/${resource}/${name}`);
    return await webhookHealth(api, kind, config, { secret });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    // Pods are injected only through the mutating configuration; the validating one adds checks.
    return kind === 'MutatingWebhookConfiguration'
      ? [{ object: `${kind} ${name}`, problems: ['not found: the webhook is not installed'], notes: [] }]
      : [{ object: `${kind} ${name}`, problems: [], notes: ['not found: no checks at apply time'] }];
  }
}

async function currentTemplates(api: RawApi, options: GatherOptions): Promise<TemplateSet | string> {
  const described = `ConfigMap ${options.namespace}/${options.templatesConfigMap}`;
  try {
    const configMap = await api.get(
      `/api/v1/namespaces/${options.namespace}/configmaps/${options.templatesConfigMap}`,
    );
    const data = isObject(configMap.data) ? configMap.data : {};
    const files = Object.entries(data)
      .filter(([key, text]) => isTemplateFile(key) && typeof text === 'string')
      .map(([key, text]) => ({ path: `${described}: ${key}`, text: typeof text === 'string' ? text : '' }));
    const load = parseTemplateFiles(
      files,
      described,
      options.image === undefined ? {} : { image: options.image },
    );
    return load.ok ? load.set : `${described} is invalid: ${load.problems.join('; ')}`;
  } catch (error) {
    return `${described} cannot be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export async function gather(api: RawApi, options: GatherOptions): Promise<ClusterSnapshot> {
  const webhooks = [
    ...(await configuration(api, 'MutatingWebhookConfiguration', options.webhook, options.secret)),
    ...(await configuration(
      api,
      'ValidatingWebhookConfiguration',
      options.validatingWebhook,
      options.secret,
    )),
  ];
  const namespaces = await api.list('/api/v1/namespaces', 'Namespace');
  const workloads: JsonObject[] = [];
  for (const [path, kind] of WORKLOADS) {
    workloads.push(...(await api.list(path, kind)).filter((w) => !ownedByWorkload(w)));
  }
  const pods = await api.list('/api/v1/pods', 'Pod');
  return { webhooks, namespaces, workloads, pods, current: await currentTemplates(api, options) };
}
