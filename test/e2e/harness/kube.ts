import { request as httpsRequest, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { isObject, type Json, type JsonObject } from '../../../src/json.js';

export interface KubeResponse {
  status: number;
  body: Json;
  /** The `Warning` headers, unquoted: admission webhooks' warnings arrive here. */
  warnings: string[];
}

export interface RequestParams {
  body?: Json;
  query?: Record<string, string>;
  contentType?: string;
}

/** A failed API call, with the apiserver's Status message. */
export class KubeError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly response: KubeResponse,
  ) {
    super(`${method} ${path}: ${String(response.status)} ${statusMessage(response.body)}`);
  }

  get status(): number {
    return this.response.status;
  }
}

function statusMessage(body: Json): string {
  if (isObject(body) && typeof body.message === 'string') return body.message;
  return JSON.stringify(body);
}

const WARNING = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/;

export function parseWarning(header: string): string {
  const match = WARNING.exec(header);
  return match?.[1] === undefined ? header : match[1].replace(/\\(.)/g, '$1');
}

function warningsOf(rawHeaders: readonly string[]): string[] {
  const warnings: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'warning') warnings.push(parseWarning(rawHeaders[i + 1] ?? ''));
  }
  return warnings;
}

interface Resource {
  plural: string;
  namespaced: boolean;
}

/**
 * A raw JSON client for the API: objects stay as the apiserver wrote them (client-node's typed
 * models would drop fields they do not know). Credentials come from a client-node KubeConfig.
 */
export class KubeClient {
  private readonly discovery = new Map<string, Promise<Map<string, Resource>>>();

  constructor(readonly kubeConfig: KubeConfig) {}

  static fromYaml(kubeconfig: string): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    return new KubeClient(kc);
  }

  async request(method: string, path: string, params: RequestParams = {}): Promise<KubeResponse> {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(path, server);
    for (const [key, value] of Object.entries(params.query ?? {})) url.searchParams.set(key, value);
    const payload = params.body === undefined ? undefined : JSON.stringify(params.body);
    const options: RequestOptions = {
      method,
      headers: {
        accept: 'application/json',
        ...(payload === undefined
          ? {}
          : {
              'content-type': params.contentType ?? 'application/json',
              'content-length': Buffer.byteLength(payload),
            }),
      },
    };
    await this.kubeConfig.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Json = text;
          try {
            body = JSON.parse(text) as Json;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body, warnings: warningsOf(res.rawHeaders) });
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url.pathname}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request, but a status outside 2xx throws a KubeError; the body must be an object. */
  async call(method: string, path: string, params: RequestParams = {}): Promise<KubeResult> {
    const response = await this.request(method, path, params);
    if (response.status < 200 || response.status > 299 || !isObject(response.body)) {
      throw new KubeError(method, path, response);
    }
    return { object: response.body, warnings: response.warnings };
  }

  async get(path: string): Promise<JsonObject> {
    return (await this.call('GET', path)).object;
  }

  /** POST, strict about unknown fields; the warnings are returned beside the created object. */
  create(path: string, body: JsonObject, query: Record<string, string> = {}): Promise<KubeResult> {
    return this.call('POST', path, { body, query: { fieldValidation: 'Strict', ...query } });
  }

  async delete(path: string): Promise<JsonObject> {
    return (await this.call('DELETE', path)).object;
  }

  /** Server-side apply, strict: an unknown or duplicated field in a manifest is an error. */
  async apply(object: JsonObject, fieldManager = 'sidekick-e2e'): Promise<JsonObject> {
    const path = await this.objectPath(object);
    const result = await this.call('PATCH', path, {
      body: object,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: 'true', fieldValidation: 'Strict' },
    });
    return result.object;
  }

  /** The REST path of an object, found through the apiserver's discovery documents. */
  async objectPath(object: JsonObject): Promise<string> {
    const { apiVersion, kind, metadata } = object;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !isObject(metadata)) {
      throw new Error(`not a Kubernetes object: ${JSON.stringify(object).slice(0, 200)}`);
    }
    const { name, namespace } = metadata;
    if (typeof name !== 'string') throw new Error(`${kind} without metadata.name`);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const resource = (await this.resources(base)).get(kind);
    if (!resource) throw new Error(`the apiserver serves no ${kind} in ${apiVersion}`);
    if (!resource.namespaced) return `${base}/${resource.plural}/${name}`;
    if (typeof namespace !== 'string') throw new Error(`${kind} ${name} has no namespace`);
    return `${base}/namespaces/${namespace}/${resource.plural}/${name}`;
  }

  private resources(base: string): Promise<Map<string, Resource>> {
    let found = this.discovery.get(base);
    if (!found) {
      found = this.get(base).then(resourceMap);
      found.catch(() => this.discovery.delete(base));
      this.discovery.set(base, found);
    }
    return found;
  }
}

export interface KubeResult {
  object: JsonObject;
  warnings: string[];
}

function resourceMap(list: JsonObject): Map<string, Resource> {
  const map = new Map<string, Resource>();
  const resources = Array.isArray(list.resources) ? list.resources : [];
  for (const entry of resources) {
    if (!isObject(entry) || typeof entry.name !== 'string' || entry.name.includes('/')) continue;
    if (typeof entry.kind !== 'string') continue;
    map.set(entry.kind, { plural: entry.name, namespaced: entry.namespaced === true });
  }
  return map;
}
