import type { KubeConfig } from '@kubernetes/client-node';
import type { Json, JsonObject } from '../json.js';
import { isObject } from '../json.js';
import { KubeJson } from '../kube-json.js';

export interface ApiAnswer {
  status: number;
  body: Json;
}

/** The relay's few calls besides its informers (src/kube-json.ts), on one keep-alive agent. */
export class RelayApi {
  private readonly json: KubeJson;

  constructor(kubeConfig: KubeConfig) {
    this.json = new KubeJson(kubeConfig, true);
  }

  async get(path: string): Promise<ApiAnswer> {
    const { status, body } = await this.json.call('GET', path, { timeoutMs: 10_000 });
    return { status, body };
  }

  async post(path: string, body: JsonObject): Promise<ApiAnswer> {
    const answer = await this.json.call('POST', path, { body: JSON.stringify(body), timeoutMs: 10_000 });
    return { status: answer.status, body: answer.body };
  }

  close(): void {
    this.json.close();
  }
}

export function apiMessage(answer: ApiAnswer): string {
  if (isObject(answer.body) && typeof answer.body.message === 'string') return answer.body.message;
  return typeof answer.body === 'string'
    ? answer.body.slice(0, 200)
    : JSON.stringify(answer.body).slice(0, 200);
}
