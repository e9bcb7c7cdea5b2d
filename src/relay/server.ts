import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { fingerprintFiles, watchChanges } from '../change-watch.js';
import type { Logger } from '../log.js';
import { startMetricsServer } from '../server/metrics-server.js';
import { readTlsMaterial, secureContextOptions, type TlsFiles } from '../server/tls.js';
import { RelayApi } from './api.js';
import { authorize, type Refusal } from './authorize.js';
import { Hub } from './hub.js';
import { IdentityCache, type IdentityApi } from './identity.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import { parseSubscribeQuery, SUBSCRIBE_PATH, type ErrorBody, type ObjectKind } from './protocol.js';
import { ObjectStore } from './store.js';

export const DEFAULT_RATE = 200;
/** Per the protocol: answers about a token are kept at most this long. */
export const IDENTITY_TTL_MS = 30_000;

export interface RelayOptions {
  address: string;
  port: number;
  tls: TlsFiles;
  kubeConfig: KubeConfig;
  secrets: boolean;
  namespaces: readonly string[];
  rate: number;
  metricsPort?: number;
  logger: Logger;
  processMetrics?: boolean;
  identityTtlMs?: number;
  /** Stands in for the apiserver's TokenReview and Pod GET in tests that have no apiserver. */
  identityApi?: IdentityApi;
}

export interface RunningRelay {
  url: string;
  port: number;
  metricsPort: number | undefined;
  metrics: RelayMetrics;
  ready(): boolean;
  subscribers(): number;
  /** Not ready; `shutdown` to every subscriber; close; stop the watches. */
  shutdown(deadlineMs?: number): Promise<{ forced: boolean }>;
}

function sendJson(res: ServerResponse, status: number, body: ErrorBody | Record<string, unknown>): void {
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
    .end(`${JSON.stringify(body)}\n`);
}

export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const { logger } = options;
  const first = await readTlsMaterial(options.tls);
  if (!first.ok) throw new Error(first.problem);
  let tls = first.material;
  const metrics = createRelayMetrics({ processMetrics: options.processMetrics ?? false });
  let shuttingDown = false;
  const kinds: ObjectKind[] = options.secrets ? ['ConfigMap', 'Secret'] : ['ConfigMap'];

  // The hub looks objects up in the store, which tells the hub of changes from its first list on.
  const hub: Hub = new Hub({ rate: options.rate, metrics, lookup: (key) => store.objectByKey(key) });
  const store = new ObjectStore({
    kubeConfig: options.kubeConfig,
    kinds,
    namespaces: options.namespaces,
    logger,
    onChange: (change) => {
      metrics.objects.set(store.size);
      hub.changed(change);
    },
    onWatchEvent: (kind, event) => {
      metrics.watchEvents.inc({ kind, event });
    },
  });
  const relayApi = options.identityApi === undefined ? new RelayApi(options.kubeConfig) : undefined;
  const identities = new IdentityCache({
    api: options.identityApi ?? (relayApi as RelayApi),
    ttlMs: options.identityTtlMs ?? IDENTITY_TTL_MS,
  });
  const ready = (): boolean => !shuttingDown && store.synced;

  const refuse = (res: ServerResponse, refusal: Refusal): void => {
    metrics.refusals.inc({ reason: refusal.reason });
    logger.info(
      { status: refusal.status, reason: refusal.reason, problem: refusal.message },
      'subscription refused',
    );
    sendJson(res, refusal.status, { error: refusal.message });
  };

  const subscribe = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const query = parseSubscribeQuery(url.searchParams);
    if (!query.ok) {
      refuse(res, { status: 400, reason: 'malformed', message: query.problem });
      return;
    }
    if (!ready()) {
      refuse(res, {
        status: 503,
        reason: 'not-ready',
        message: shuttingDown
          ? 'the relay is shutting down: connect again'
          : 'the relay has not synced its watches yet',
      });
      return;
    }
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (bearer === undefined) {
      refuse(res, {
        status: 401,
        reason: 'no-token',
        message:
          'no bearer token: send the Pod’s projected service-account token for audience sidekick-relay',
      });
      return;
    }
    let result;
    try {
      result = await identities.lookup(bearer);
    } catch (error) {
      logger.error({ err: error }, 'cannot check a subscriber token');
      sendJson(res, 503, { error: `the relay cannot check the token now: ${String(error)}` });
      return;
    }
    if (!result.ok) {
      refuse(res, result.refusal);
      return;
    }
    const { identity } = result;
    const refusal = authorize(identity.pod, identity.podUid, query.objects, options.secrets);
    if (refusal !== undefined) {
      refuse(res, refusal);
      return;
    }
    if (res.destroyed || shuttingDown) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const subscriber = hub.subscribe(
      res,
      { namespace: identity.namespace, pod: identity.podName },
      query.objects,
    );
    // The stream lives no longer than the token that opened it: the subscriber comes back with
    // the one kubelet has rotated in, and is reviewed again.
    if (identity.expiresAt !== undefined) {
      const timer = setTimeout(
        () => {
          hub.end(subscriber);
        },
        Math.max(0, identity.expiresAt - Date.now()),
      );
      timer.unref();
      res.on('close', () => {
        clearTimeout(timer);
      });
    }
    logger.debug({ pod: `${identity.namespace}/${identity.podName}`, objects: query.objects }, 'subscribed');
  };

  const server = createServer({ ...secureContextOptions(tls) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://relay');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, {
        error: `${String(req.method)} is not served: GET ${SUBSCRIBE_PATH}, /healthz, /readyz`,
      });
      return;
    }
    if (url.pathname === SUBSCRIBE_PATH) {
      subscribe(req, res, url).catch((error: unknown) => {
        logger.error({ err: error }, 'subscription failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    } else if (url.pathname === '/healthz') {
      sendJson(res, 200, { ok: true });
    } else if (url.pathname === '/readyz') {
      const isReady = ready();
      sendJson(res, isReady ? 200 : 503, {
        ready: isReady,
        ...(isReady ? {} : { reasons: [shuttingDown ? 'shutting down' : 'watches not synced'] }),
      });
    } else {
      sendJson(res, 404, { error: `not found: GET ${SUBSCRIBE_PATH}, /healthz, /readyz` });
    }
  });
  // Streams are long-lived: no request timeout; the pings keep them from looking idle.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.on('tlsClientError', (error) => {
    logger.debug({ err: error }, 'TLS handshake failed');
  });

  const tlsPaths = [options.tls.certFile, options.tls.keyFile];
  const tlsWatch = watchChanges({
    dirs: [...new Set(tlsPaths.map((path) => dirname(path)))],
    fingerprint: () => fingerprintFiles(tlsPaths),
    onChange: async () => {
      const read = await readTlsMaterial(options.tls);
      if (!read.ok) {
        logger.error({ problem: read.problem }, 'TLS files rejected; the certificate in use stays');
        return;
      }
      if (read.material.cert === tls.cert && read.material.key === tls.key) return;
      server.setSecureContext(secureContextOptions(read.material));
      tls = read.material;
      logger.info(
        { subject: tls.subject, notAfter: tls.notAfter.toISOString() },
        'serving certificate reloaded',
      );
    },
    debounceMs: 200,
    pollMs: 5000,
    onError: (error) => {
      logger.error({ err: error }, 'certificate watch failed');
    },
  });
  await tlsWatch.check();

  void store.start();
  let metricsServer: HttpServer | undefined;
  let metricsPort: number | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (options.metricsPort !== undefined) {
      const started = await startMetricsServer(metrics, options.address, options.metricsPort, logger);
      metricsServer = started.server;
      metricsPort = started.port;
    }
  } catch (error) {
    tlsWatch.close();
    server.close();
    await store.stop();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.address.includes(':') ? `[${options.address}]` : options.address;

  let stopping: Promise<{ forced: boolean }> | undefined;
  const shutdown = (deadlineMs = 10_000): Promise<{ forced: boolean }> => {
    stopping ??= (async () => {
      shuttingDown = true;
      tlsWatch.close();
      const closed = new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      hub.shutdown();
      server.closeIdleConnections();
      let forced = false;
      const deadline = new Promise<void>((resolve) => {
        setTimeout(() => {
          forced = true;
          server.closeAllConnections();
          resolve();
        }, deadlineMs).unref();
      });
      await Promise.race([closed, deadline]);
      await store.stop();
      relayApi?.close();
      if (metricsServer !== undefined) {
        const ms = metricsServer;
        await new Promise<void>((resolve) =>
          ms.close(() => {
            resolve();
          }),
        );
      }
      return { forced };
    })();
    return stopping;
  };

  return {
    url: `https://${host}:${String(port)}`,
    port,
    metricsPort,
    metrics,
    ready,
    subscribers: () => hub.size,
    shutdown,
  };
}
