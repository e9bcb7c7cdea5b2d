import {
  makeInformer,
  V1ListMeta,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { getOwn, isObject, type JsonObject } from '../json.js';
import type { Logger } from '../log.js';
import { RelayApi } from './api.js';
import type { ObjectContent, ObjectKind, ObjectPresent } from './protocol.js';

/** What a watched object looks like to subscribers, taken from the raw API object. */
export function contentOf(kind: ObjectKind, object: JsonObject): ObjectPresent & { namespace: string } {
  const meta = isObject(object.metadata) ? object.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : '';
  const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '';
  const data = strings(getOwn(object, 'data'));
  const binary = kind === 'ConfigMap' ? strings(getOwn(object, 'binaryData')) : {};
  return {
    kind,
    name,
    namespace,
    resourceVersion,
    data,
    ...(Object.keys(binary).length > 0 ? { binaryData: binary } : {}),
  };
}

/** Without the namespace, which the wire never carries (it is always the subscriber's own). */
function wireContent(content: ObjectPresent & { namespace: string }): ObjectPresent {
  const wire: ObjectPresent = {
    kind: content.kind,
    name: content.name,
    resourceVersion: content.resourceVersion,
    data: content.data,
  };
  if (content.binaryData !== undefined) wire.binaryData = content.binaryData;
  return wire;
}

function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(value)) return out;
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') {
      Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

export const objectKey = (kind: ObjectKind, namespace: string, name: string): string =>
  `${kind}/${namespace}/${name}`;

export interface StoreChange {
  key: string;
  /** When the relay saw it (ms, performance clock), for the push latency. */
  seenAt: number;
}

export interface ObjectStoreOptions {
  kubeConfig: KubeConfig;
  kinds: readonly ObjectKind[];
  /** Empty: cluster-wide, one watch per kind. Otherwise one watch per kind and namespace. */
  namespaces: readonly string[];
  logger: Logger;
  onChange: (change: StoreChange) => void;
  onWatchEvent?: (kind: ObjectKind, event: 'restart' | 'error') => void;
}

const RESOURCE: Record<ObjectKind, string> = { ConfigMap: 'configmaps', Secret: 'secrets' };

interface Watched {
  kind: ObjectKind;
  path: string;
  synced: boolean;
  stopped: boolean;
  informer: ReturnType<typeof makeInformer<KubernetesObject>>;
  retry: NodeJS.Timeout | undefined;
  failures: number;
}

/**
 * client-node informers, one per kind (and namespace when restricted): the relay's only watches on
 * the apiserver, however many subscribers it has. The informers' list comes in as raw JSON and
 * their watch events are raw JSON, so content is what the API holds, byte for byte.
 */
export class ObjectStore {
  private readonly objects = new Map<string, ObjectPresent>();
  private readonly watched: Watched[] = [];
  private readonly api: RelayApi;

  constructor(private readonly options: ObjectStoreOptions) {
    this.api = new RelayApi(options.kubeConfig);
    const scopes = options.namespaces.length === 0 ? [undefined] : options.namespaces;
    for (const kind of options.kinds) {
      for (const namespace of scopes) {
        const path =
          namespace === undefined
            ? `/api/v1/${RESOURCE[kind]}`
            : `/api/v1/namespaces/${encodeURIComponent(namespace)}/${RESOURCE[kind]}`;
        this.watched.push(this.watch(kind, path));
      }
    }
  }

  get synced(): boolean {
    return this.watched.every((w) => w.synced);
  }

  get(kind: ObjectKind, namespace: string, name: string): ObjectContent | undefined {
    return this.objects.get(objectKey(kind, namespace, name));
  }

  objectByKey(key: string): ObjectContent | undefined {
    return this.objects.get(key);
  }

  get size(): number {
    return this.objects.size;
  }

  async start(): Promise<void> {
    await Promise.all(this.watched.map((w) => this.begin(w)));
  }

  async stop(): Promise<void> {
    for (const w of this.watched) {
      w.stopped = true;
      clearTimeout(w.retry);
    }
    await Promise.all(this.watched.map((w) => w.informer.stop()));
    this.api.close();
  }

  private watch(kind: ObjectKind, path: string): Watched {
    const list = (): Promise<KubernetesListObject<KubernetesObject>> => this.list(path);
    const informer = makeInformer<KubernetesObject>(this.options.kubeConfig, path, list);
    const w: Watched = { kind, path, synced: false, stopped: false, informer, retry: undefined, failures: 0 };
    const put = (object: KubernetesObject): void => {
      const content = contentOf(kind, object as unknown as JsonObject);
      const key = objectKey(kind, content.namespace, content.name);
      const before = this.objects.get(key);
      if (before?.resourceVersion === content.resourceVersion) return;
      this.objects.set(key, wireContent(content));
      this.options.onChange({ key, seenAt: performance.now() });
    };
    informer.on('add', put);
    informer.on('update', put);
    informer.on('delete', (object) => {
      const content = contentOf(kind, object as unknown as JsonObject);
      const key = objectKey(kind, content.namespace, content.name);
      this.objects.delete(key);
      this.options.onChange({ key, seenAt: performance.now() });
    });
    informer.on('error', (error: unknown) => {
      // The informer stops on an error other than 410 Gone: start it again, backing off.
      this.options.onWatchEvent?.(kind, 'error');
      if (w.stopped) return;
      w.failures++;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(w.failures, 6)) * (0.5 + Math.random() / 2);
      this.options.logger.warn({ err: error, path, retryMs: Math.round(delay) }, 'watch failed; restarting');
      clearTimeout(w.retry);
      w.retry = setTimeout(() => void this.begin(w), delay);
    });
    informer.on('connect', () => {
      this.options.onWatchEvent?.(kind, 'restart');
    });
    return w;
  }

  private async begin(w: Watched): Promise<void> {
    if (w.stopped) return;
    const failuresBefore = w.failures;
    await w.informer.start();
    // start() resolves after the list and the watch's request, or after an error (reported).
    if (w.failures === failuresBefore) {
      w.synced = true;
      w.failures = 0;
    }
  }

  private async list(path: string): Promise<KubernetesListObject<KubernetesObject>> {
    const items: KubernetesObject[] = [];
    let token = '';
    let resourceVersion = '';
    do {
      const query = new URLSearchParams({ limit: '500', ...(token === '' ? {} : { continue: token }) });
      const page = await this.api.get(`${path}?${query.toString()}`);
      if (page.status !== 200 || !isObject(page.body)) {
        const error = new Error(`LIST ${path}: ${String(page.status)}`) as Error & { statusCode: number };
        error.statusCode = page.status;
        throw error;
      }
      const meta = isObject(page.body.metadata) ? page.body.metadata : {};
      if (resourceVersion === '' && typeof meta.resourceVersion === 'string')
        resourceVersion = meta.resourceVersion;
      token = typeof meta.continue === 'string' ? meta.continue : '';
      const pageItems = Array.isArray(page.body.items) ? page.body.items : [];
      for (const item of pageItems) if (isObject(item)) items.push(item);
    } while (token !== '');
    const metadata = new V1ListMeta();
    metadata.resourceVersion = resourceVersion;
    return { apiVersion: 'v1', kind: 'List', metadata, items };
  }
}
