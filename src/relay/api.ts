import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Json, JsonObject } from '../json.js';
import { isObject } from '../json.js';

export interface ApiAnswer {
  status: number;
  body: Json;
}

/**
 * The relay's few calls besides its informers, as raw JSON (typed models drop fields they do not
 * know: never a Pod through them). One keep-alive agent: a burst of subscribers is a burst of
 * TokenReviews and Pod GETs.
 */
export class RelayApi {
  private agent: Agent | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {}

  get(path: string): Promise<ApiAnswer> {
    return this.call('GET', path);
  }

  post(path: string, body: JsonObject): Promise<ApiAnswer> {
    return this.call('POST', path, JSON.stringify(body));
  }

  close(): void {
    this.agent?.destroy();
  }

  private async call(method: string, path: string, body?: string): Promise<ApiAnswer> {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('the kubeconfig has no current cluster');
    const options: RequestOptions = {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
    };
    // Credentials are applied on every call (an in-cluster token file rotates); the TLS settings
    // it returns go into one keep-alive agent instead of the fresh agent it makes each time.
    await this.kubeConfig.applyToHTTPSOptions(options);
    this.agent ??= new Agent({
      keepAlive: true,
      maxSockets: 16,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.cert !== undefined ? { cert: options.cert } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
    });
    options.agent = this.agent;
    const url = new URL(path, server);
    return new Promise((resolve, reject) => {
      const req = request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Json = text;
          try {
            parsed = JSON.parse(text) as Json;
          } catch {
            // not JSON: the text is the message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url.pathname}: no answer in 10 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

export function apiMessage(answer: ApiAnswer): string {
  if (isObject(answer.body) && typeof answer.body.message === 'string') return answer.body.message;
  return typeof answer.body === 'string'
    ? answer.body.slice(0, 200)
    : JSON.stringify(answer.body).slice(0, 200);
}
