import { readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { getOwn, isObject } from '../../src/json.js';

/** The same body limit as sidekick's default, so that every server reads the same way. */
export const BODY_LIMIT = 7 * 1024 * 1024;

/** Same keep-alive as sidekick: the apiserver keeps its webhook connections for 90 s. */
export const KEEP_ALIVE_MS = 120_000;

export interface FloorArgs {
  cert: string;
  key: string;
  port: number;
}

export function floorArgs(argv: readonly string[]): FloorArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: { 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, port: { type: 'string' } },
  });
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if (certFile === undefined || keyFile === undefined)
    throw new Error('--tls-cert and --tls-key are required');
  return {
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    port: Number(values.port ?? '0'),
  };
}

/** The uid of an AdmissionReview, or undefined when the body is not one. */
export function reviewUid(body: unknown): string | undefined {
  const request = isObject(body) ? getOwn(body, 'request') : undefined;
  const uid = isObject(request) ? getOwn(request, 'uid') : undefined;
  return typeof uid === 'string' && uid !== '' ? uid : undefined;
}

export function allowedReview(uid: string): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid, allowed: true },
  });
}

/** Listens on 127.0.0.1 and tells the parent the port on stdout; exits on SIGTERM. */
export function listen(server: Server, port: number): void {
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
  });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
  });
}
