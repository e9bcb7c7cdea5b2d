import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { ServingCertificate } from '../../src/certs/generate.js';
import { isObject, type JsonObject } from '../../src/json.js';
import type { Logger } from '../../src/log.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server.js';
import { loopbackCertificate, writeCertificate } from '../support/certificates.js';
import { JSON_HEADERS, readResult, type HttpResult } from '../support/https-request.js';

/** A template named `probe`, for a server that needs one to be ready. */
export const PROBE_TEMPLATE = `apiVersion: sidekick.dev/v1alpha1
kind: SidecarTemplate
metadata:
  name: probe
spec:
  description: a sidecar for tests
  container:
    image: registry.example/probe:1
`;

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `sidekick-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

let shared: Promise<ServingCertificate> | undefined;
/** One CA and 127.0.0.1/localhost serving certificate for the whole suite. */
export function sharedCertificate(): Promise<ServingCertificate> {
  shared ??= loopbackCertificate();
  return shared;
}

/** A pino logger whose JSON lines the test can read back. */
export function captureLogger(level = 'info'): { logger: Logger; lines: () => JsonObject[] } {
  const lines: JsonObject[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        const parsed: unknown = JSON.parse(line);
        if (isObject(parsed)) lines.push(parsed);
      }
      done();
    },
  });
  return { logger: pino({ level }, sink), lines: () => lines };
}

export interface TestServer {
  server: RunningServer;
  ca: string;
  logs: () => JsonObject[];
  close: () => Promise<void>;
}

/** The real HTTPS server on 127.0.0.1 and a free port, with its own certificate files. */
export async function startTestServer(
  options: Partial<Omit<ServerOptions, 'logger'>> & { templatesDir: string },
): Promise<TestServer> {
  const dir = await tempDir('server');
  const cert = await sharedCertificate();
  const tls = options.tls ?? (await writeCertificate(dir.path, cert));
  const { logger, lines } = captureLogger();
  try {
    const server = await startServer({
      address: '127.0.0.1',
      port: 0,
      metricsPort: 0,
      ...options,
      tls,
      logger,
    });
    return {
      server,
      ca: cert.ca.cert,
      logs: lines,
      close: async () => {
        await server.shutdown({ deadlineMs: 2000 });
        await dir.remove();
      },
    };
  } catch (error) {
    await dir.remove();
    throw error;
  }
}

/** How the server spells a metav1.Status, written out independently of the code under test. */
export function statusJson(code: number, reason: string, message: string): string {
  return `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":${JSON.stringify(message)},"reason":"${reason}","code":${code}}`;
}

export function pod(name: string, annotations: Record<string, string> = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'team-a', annotations },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
  };
}

/** The text of the metric line `name{labels} value`, or undefined. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

export function getMetrics(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
    }).on('error', reject);
  });
}

/** Resolves with the first event for which `accept` is true, or rejects after `ms`. */
export function waitFor<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  accept: (value: T) => boolean,
  ms: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const unsubscribe = subscribe((value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}

export interface InFlight {
  /** Resolves once the server has read the request headers (it answered 100 Continue). */
  started: Promise<void>;
  /** Sends the body and resolves with the answer. */
  finish: () => Promise<HttpResult>;
}

/**
 * A request that the server has begun but not finished: the headers go out with
 * `Expect: 100-continue`, and the body only when `finish` is called.
 */
export function inFlight(port: number, ca: string | string[], body: string): InFlight {
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/mutate',
    headers: { ...JSON_HEADERS, 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    ca,
    agent: false,
  });
  const started = new Promise<void>((resolve, reject) => {
    req.once('continue', resolve);
    req.once('error', reject);
  });
  const answered = new Promise<HttpResult>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      readResult(res).then(resolve, reject);
    });
  });
  // Failures surface through `started` or `finish`; keep them from being reported twice.
  answered.catch(() => undefined);
  started.catch(() => undefined);
  req.flushHeaders();
  return {
    started,
    finish: () => {
      req.end(body);
      return answered;
    },
  };
}
