import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { isArray, isObject, type Json, type JsonObject } from '../json.js';

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
  constructor(private readonly kubeConfig: KubeConfig) {}

  async get(path: string): Promise<JsonObject> {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (server === undefined) throw new ApiError(path, 0, 'the kubeconfig has no current cluster');
    const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const { status, text } = await fetchText(new URL(path, server), options);
    let body: Json = text;
    try {
      body = JSON.parse(text) as Json;
    } catch {
      // not JSON: the text is the message
    }
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

function fetchText(url: URL, options: RequestOptions): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${url.pathname}: no answer in 30 s`)));
    req.on('error', (error) => {
      reject(new ApiError(url.pathname, 0, error.message));
    });
    req.end();
  });
}
