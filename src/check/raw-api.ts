import type { KubeConfig } from '@kubernetes/client-node';
import { isArray, isObject, type JsonObject } from '../json.js';
import { KubeJson } from '../kube-json.js';

/** A GET the API refused or could not answer, with the apiserver's message. */
export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    message: string,
  ) {
    super(`GET ${path}: ${status === 0 ? message : `${String(status)} ${message}`}`);
  }
}

/**
 * Read-only access to the API as raw JSON: client-node's typed models would drop the fields
 * they do not know (a Pod's restartPolicy on an init container, for one). It only ever GETs.
 * Credentials come from the KubeConfig, as kubectl finds them.
 */
export class RawApi {
  private readonly json: KubeJson;

  constructor(kubeConfig: KubeConfig) {
    this.json = new KubeJson(kubeConfig);
  }

  async get(path: string): Promise<JsonObject> {
    let answer;
    try {
      answer = await this.json.call('GET', path, { timeoutMs: 30_000 });
    } catch (error) {
      throw new ApiError(path, 0, error instanceof Error ? error.message : String(error));
    }
    const { status, body, text } = answer;
    if (status < 200 || status > 299 || !isObject(body)) {
      const message = isObject(body) && typeof body.message === 'string' ? body.message : text.slice(0, 200);
      throw new ApiError(path, status, message);
    }
    return body;
  }

  /** Every item of a list, page by page, each with the kind the list is of. */
  async list(path: string, kind: string): Promise<JsonObject[]> {
    const items: JsonObject[] = [];
    let token = '';
    do {
      const query = new URLSearchParams({ limit: '500', ...(token === '' ? {} : { continue: token }) });
      const page = await this.get(`${path}${path.includes('?') ? '&' : '?'}${query.toString()}`);
      for (const item of isArray(page.items) ? page.items : [])
        if (isObject(item)) items.push({ kind, ...item });
      const meta = isObject(page.metadata) ? page.metadata : {};
      token = typeof meta.continue === 'string' ? meta.continue : '';
    } while (token !== '');
    return items;
  }
}
