import { ApiException, CoreV1Api, V1ConfigMap, V1ObjectMeta } from '@kubernetes/client-node';
import { SYSTEM_NAMESPACES } from '../inject/types.js';

/**
 * The relay's CA bundle, published as a ConfigMap in the namespaces where relay-mode Pods run:
 * a projected volume can only read its own namespace's objects, and the watcher trusts the
 * `ca.crt` that config-watcher's template projects from this ConfigMap (optional) beside its token.
 * The bundle is the same one a rotation step leaves in the Secret's ca.crt, so during `trust-new`
 * it holds both CAs, published before the relay serves from the new one (docs/relay.md).
 */
export interface PublishOptions {
  /** The ConfigMap's name (config-watcher's template reads `sidekick-relay-ca`). */
  name: string;
  /** Where to publish; undefined: every namespace but the system ones. */
  namespaces?: readonly string[];
  /** PEM, one or more CAs. */
  bundle: string;
  fieldManager: string;
  labels: Record<string, string>;
}

export interface PublishResult {
  /** Namespaces whose ConfigMap was created or brought up to date. */
  changed: string[];
  /** Namespaces already right. */
  unchanged: number;
  /** Namespaces left out, with the reason (terminating, or gone meanwhile). */
  skipped: string[];
}

export const CA_KEY = 'ca.crt';
const ATTEMPTS = 5;
/** Writes in flight at once: enough for thousands of namespaces in a run, little load on the apiserver. */
const CONCURRENCY = 8;

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

async function targets(core: CoreV1Api, namespaces: readonly string[] | undefined): Promise<string[]> {
  if (namespaces !== undefined) return [...new Set(namespaces)];
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await core.listNamespace({ limit: 500, ...(token === undefined ? {} : { _continue: token }) });
    for (const ns of page.items) {
      const name = ns.metadata?.name;
      if (name === undefined || SYSTEM_NAMESPACES.includes(name)) continue;
      if (ns.status?.phase === 'Terminating') continue;
      names.push(name);
    }
    token = page.metadata?._continue || undefined;
  } while (token !== undefined);
  return names;
}

function body(options: PublishOptions, namespace: string, existing?: V1ConfigMap): V1ConfigMap {
  const metadata = new V1ObjectMeta();
  metadata.name = options.name;
  metadata.namespace = namespace;
  metadata.labels = { ...existing?.metadata?.labels, ...options.labels };
  if (existing?.metadata?.annotations !== undefined) metadata.annotations = existing.metadata.annotations;
  if (existing?.metadata?.resourceVersion !== undefined) metadata.resourceVersion = existing.metadata.resourceVersion;
  const configMap = new V1ConfigMap();
  configMap.apiVersion = 'v1';
  configMap.kind = 'ConfigMap';
  configMap.metadata = metadata;
  // Other keys someone added stay; ca.crt is this program's.
  configMap.data = { ...existing?.data, [CA_KEY]: options.bundle };
  return configMap;
}

type One = 'changed' | 'unchanged' | 'skipped';

async function publishOne(core: CoreV1Api, options: PublishOptions, namespace: string): Promise<One> {
  for (let attempt = 1; ; attempt++) {
    let existing: V1ConfigMap | undefined;
    try {
      existing = await core.readNamespacedConfigMap({ name: options.name, namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    if (existing?.data?.[CA_KEY] === options.bundle) return 'unchanged';
    try {
      if (existing) {
        await core.replaceNamespacedConfigMap({
          name: options.name,
          namespace,
          body: body(options, namespace, existing),
          fieldManager: options.fieldManager,
        });
      } else {
        await core.createNamespacedConfigMap({
          namespace,
          body: body(options, namespace),
          fieldManager: options.fieldManager,
        });
      }
      return 'changed';
    } catch (error) {
      const status = statusOf(error);
      // 404: the namespace went away; 403 on create: it is terminating (NamespaceLifecycle).
      if (status === 404 || (status === 403 && !existing && (await terminating(core, namespace)))) return 'skipped';
      if (status !== 409 || attempt >= ATTEMPTS) throw error;
    }
  }
}

async function terminating(core: CoreV1Api, namespace: string): Promise<boolean> {
  try {
    const ns = await core.readNamespace({ name: namespace });
    return ns.status?.phase === 'Terminating';
  } catch (error) {
    // Gone meanwhile; anything else leaves the create's refusal standing.
    return statusOf(error) === 404;
  }
}

/** Creates or updates the ConfigMap in each namespace; an error names the namespace. */
export async function publishCaBundle(core: CoreV1Api, options: PublishOptions): Promise<PublishResult> {
  const namespaces = await targets(core, options.namespaces);
  const result: PublishResult = { changed: [], unchanged: 0, skipped: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < namespaces.length) {
      const namespace = namespaces[next++] ?? '';
      let one: One;
      try {
        one = await publishOne(core, options, namespace);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new Error(`ConfigMap ${namespace}/${options.name}: ${why}`, { cause: error });
      }
      if (one === 'changed') result.changed.push(namespace);
      else if (one === 'unchanged') result.unchanged++;
      else result.skipped.push(namespace);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, namespaces.length) }, worker));
  result.changed.sort();
  result.skipped.sort();
  return result;
}
