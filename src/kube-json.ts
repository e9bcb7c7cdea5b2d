import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Json } from './json.js';

export interface JsonAnswer {
  status: number;
  /** The parsed body, or its text when it is not JSON. */
  body: Json;
  text: string;
}

export interface JsonCallOptions {
  body?: string;
  timeoutMs: number;
}

/**
 * One HTTPS call to the apiserver as raw JSON, for `sidekick check` and the relay: client-node's
 * typed models drop the fields they do not know (a Pod's restartPolicy on an init container, for
 * one), so a Pod never goes through them. Credentials come from the KubeConfig on every call (an
 * in-cluster token file rotates). With `keepAlive`, the TLS settings it gives go into one
 * keep-alive agent instead of the fresh agent client-node makes each time (the relay: a burst of
 * subscribers is a burst of TokenReviews and Pod GETs).
 */
export class KubeJson {
  private agent: Agent | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly keepAlive = false,
  ) {}

  async call(method: string, path: string, options: JsonCallOptions): Promise<JsonAnswer> {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('the kubeconfig has no current cluster');
    const body = options.body;
    const request: RequestOptions = {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
    };
    await this.kubeConfig.applyToHTTPSOptions(request);
    if (this.keepAlive) {
      this.agent ??= new Agent({
        keepAlive: true,
        maxSockets: 16,
        ...(request.ca !== undefined ? { ca: request.ca } : {}),
        ...(request.cert !== undefined ? { cert: request.cert } : {}),
        ...(request.key !== undefined ? { key: request.key } : {}),
        ...(request.rejectUnauthorized !== undefined
          ? { rejectUnauthorized: request.rejectUnauthorized }
          : {}),
        ...(request.servername !== undefined ? { servername: request.servername } : {}),
      });
      request.agent = this.agent;
    }
    const url = new URL(path, server);
    const text = await send(url, request, method, options);
    let parsed: Json = text.text;
    try {
      parsed = JSON.parse(text.text) as Json;
    } catch {
      // not JSON: the text is the message
    }
    return { status: text.status, body: parsed, text: text.text };
  }

  close(): void {
    this.agent?.destroy();
  }
}

function send(
  url: URL,
  options: RequestOptions,
  method: string,
  call: JsonCallOptions,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const seconds = String(call.timeoutMs / 1000);
    req.setTimeout(call.timeoutMs, () =>
      req.destroy(new Error(`${method} ${url.pathname}: no answer in ${seconds} s`)),
    );
    req.on('error', reject);
    req.end(call.body);
  });
}
