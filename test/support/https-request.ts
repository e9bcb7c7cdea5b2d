// HTTPS calls to a server under test on 127.0.0.1, verified against the test's CA, each on a
// connection of its own unless an agent is given.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { TLSSocket } from 'node:tls';

export const JSON_HEADERS = { 'content-type': 'application/json' };

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  certificate: string;
}

export interface SendOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Defaults to a fresh connection per request. */
  agent?: Agent;
  /** Several CAs may be trusted at once (certificate rotation). */
  ca: string | string[];
  /** A client certificate to present (PEM). */
  client?: { cert: string; key: string };
}

export function send(port: number, options: SendOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const body = options.body;
    const headers: Record<string, string | number> = { ...options.headers };
    if (
      body !== undefined &&
      headers['content-length'] === undefined &&
      headers['transfer-encoding'] === undefined
    ) {
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/mutate',
        headers,
        ca: options.ca,
        agent: options.agent ?? false,
        ...options.client,
      },
      (res) => {
        readResult(res).then(resolve, reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The whole response, with the certificate its connection was served with. */
export function readResult(res: IncomingMessage): Promise<HttpResult> {
  const certificate = res.socket instanceof TLSSocket ? res.socket.getPeerCertificate().fingerprint256 : '';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => {
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        certificate,
      });
    });
    res.on('error', reject);
  });
}

/**
 * The status of GET `path` (a probe: /readyz, /healthz) on a connection of its own, known as soon
 * as the headers arrive; a server that does not answer within `timeoutMs` is an error.
 */
export function statusOf(port: number, path: string, ca: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${path} in ${String(timeoutMs)} ms`)));
    req.on('error', reject);
    req.end();
  });
}
