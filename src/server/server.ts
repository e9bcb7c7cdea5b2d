import { EventEmitter } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { ReviewDeps, ValidateDeps, WorkloadsMode } from '../admission/index.js';
import type { Logger } from '../log.js';
import { readTemplateSources, type TemplateDirs } from '../templates/load.js';
import { mergeTemplateSources } from '../templates/merge.js';
import { startTemplateReloader, type TemplateReload, type TemplateReloader } from '../templates/reloader.js';
import type { TemplateSet, TemplateSource } from '../templates/types.js';
import { createApp, mutateEndpoint, MUTATE_PATH, type AppDeps, type Readiness } from './app.js';
import { DEFAULT_MAX_BODY_BYTES } from './body.js';
import { fingerprintFiles, watchChanges, type ChangeWatch } from '../change-watch.js';
import { startMetricsServer } from './metrics-server.js';
import { trackUnusedConnections, type UnusedConnections } from './unused-connections.js';
import { createMetrics, recordTemplateSet, type Metrics } from './metrics.js';
import { readTlsMaterial, secureContextOptions, type TlsFiles, type TlsMaterial } from './tls.js';

/**
 * The apiserver's webhook client drops idle connections after 90 s. Closing them earlier from
 * this side races with a request already on its way; so this side waits longer.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 120_000;
/** The apiserver gives a webhook at most 30 s; a request still unfinished after 60 s is abandoned. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Kubernetes' default grace period is 30 s: finish well inside it. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 25_000;

export interface ServerOptions {
  address: string;
  /** 0 picks a free port. */
  port: number;
  tls: TlsFiles;
  /** The base template set: the built-in directory or `--templates`, which replaces it. */
  templatesDir: string;
  /** `--extra-templates`: a directory whose templates are added to the base set. */
  extraTemplatesDir?: string;
  /** Where Prometheus scrapes (plain HTTP, same address); undefined: no metrics listener; 0: a free port. */
  metricsPort?: number;
  prefix?: string;
  injectorNamespace?: string;
  maxBodyBytes?: number;
  logger: Logger;
  /** Quiet time after a file event before reloading. */
  debounceMs?: number;
  /** How often files are looked at when no event came. */
  pollMs?: number;
  /** Node's process metrics in the registry (once per process: the CLI, not tests). */
  processMetrics?: boolean;
  inject?: ReviewDeps['inject'];
  /** deny (default) or warn: what /validate does with a workload whose Pods would be refused. */
  workloads?: WorkloadsMode;
  /** The templates ConfigMap in injectorNamespace that /validate checks. */
  templatesConfigMap?: string;
  /** What the templates' `{{ sidekick.image }}` stands for (default: this version's image). */
  image?: string;
}

export type TlsReload = { ok: true; material: TlsMaterial } | { ok: false; problem: string };

export interface ServerEvents {
  tls: [TlsReload];
  templates: [TemplateReload];
}

export interface RunningServer {
  url: string;
  port: number;
  metricsPort: number | undefined;
  metrics: Metrics;
  events: EventEmitter<ServerEvents>;
  readiness(): Readiness;
  templates(): TemplateSet | undefined;
  certificate(): TlsMaterial;
  /**
   * Readiness false; after `delayMs` (still serving, so that endpoints can drop this replica
   * first) stop accepting, close idle connections and let in-flight requests finish; what is
   * still open `deadlineMs` later is cut (`forced`).
   */
  shutdown(options?: { deadlineMs?: number; delayMs?: number }): Promise<{ forced: boolean }>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const first = await readTlsMaterial(options.tls);
  if (!first.ok) throw new Error(first.problem);
  let tls = first.material;
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? false });
  const events = new EventEmitter<ServerEvents>();
  reportCertificate(metrics, tls);
  metrics.tlsLastReloadSuccessful.set(1);
  let shuttingDown = false;
  const debounceMs = options.debounceMs ?? 200;
  const pollMs = options.pollMs ?? 5000;

  const templateDirs: TemplateDirs = {
    base: options.templatesDir,
    ...(options.extraTemplatesDir !== undefined ? { extra: options.extraTemplatesDir } : {}),
  };
  // The files the set in use was merged from: /validate checks a templates ConfigMap against them.
  let sourcesInUse: readonly TemplateSource[] | undefined;
  const templates = await startTemplateReloader({
    dirs: templateDirs,
    load: async (dirs) => {
      const read = await readTemplateSources(dirs);
      if (!read.ok) return read;
      const load = mergeTemplateSources(
        read.sources,
        options.image === undefined ? {} : { image: options.image },
      );
      if (load.ok) sourcesInUse = read.sources;
      return load;
    },
    debounceMs,
    pollMs,
    onReload: (event) => {
      reportTemplates(event, templateDirs, metrics, logger);
      events.emit('templates', event);
    },
    onError: (error) => {
      logger.error({ err: error }, 'template watch failed');
    },
  });

  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (shuttingDown) reasons.push('shutting down');
    if (!templates.current()) reasons.push('no valid templates loaded');
    return { ready: reasons.length === 0, reasons };
  };
  const appDeps: AppDeps = {
    review: {
      templates: () => templates.current(),
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
      ...(options.injectorNamespace !== undefined ? { injectorNamespace: options.injectorNamespace } : {}),
      ...(options.inject ? { inject: options.inject } : {}),
    },
    validate: validateDeps(
      options,
      () => templates.current(),
      () => sourcesInUse,
    ),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    logger,
    metrics,
    shuttingDown: () => shuttingDown,
    requireClientCertificate: options.tls.clientCaFile !== undefined,
    readiness,
  };
  const app = createApp(appDeps);
  const mutate = mutateEndpoint(appDeps);
  const server = createServer(
    {
      ...secureContextOptions(tls),
      // The certificate is checked on the admission endpoints only: kubelet probes /healthz without one.
      requestCert: options.tls.clientCaFile !== undefined,
      rejectUnauthorized: false,
    },
    (req, res) => {
      // Admissions, nearly every request, skip express's router and response helpers: on a 9 KB
      // Pod these cost about a fifth of the request (bench/README.md). Any other spelling of the
      // path (trailing slash, case) still reaches the same handler through express.
      if (req.method === 'POST' && isMutatePath(req.url)) mutate(req, res);
      else app(req, res);
    },
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  const unused = trackUnusedConnections(server);
  server.on('tlsClientError', (error) => {
    logger.debug({ err: error }, 'TLS handshake failed');
  });

  const reloadTls = async (): Promise<void> => {
    const read = await readTlsMaterial(options.tls);
    if (!read.ok) {
      metrics.tlsReloads.inc({ result: 'error' });
      metrics.tlsLastReloadSuccessful.set(0);
      logger.error({ problem: read.problem }, 'TLS files rejected; the certificate in use stays');
      events.emit('tls', read);
      return;
    }
    const next = read.material;
    metrics.tlsLastReloadSuccessful.set(1);
    if (next.cert === tls.cert && next.key === tls.key && next.clientCa === tls.clientCa) return;
    server.setSecureContext(secureContextOptions(next));
    tls = next;
    metrics.tlsReloads.inc({ result: 'success' });
    reportCertificate(metrics, next);
    logger.info(
      { subject: next.subject, notAfter: next.notAfter.toISOString(), fingerprint256: next.fingerprint256 },
      'serving certificate reloaded',
    );
    events.emit('tls', read);
  };
  const tlsPaths = [options.tls.certFile, options.tls.keyFile, options.tls.clientCaFile].filter(
    (path): path is string => path !== undefined,
  );
  const tlsWatch = watchChanges({
    dirs: [...new Set(tlsPaths.map((path) => dirname(path)))],
    fingerprint: () => fingerprintFiles(tlsPaths),
    onChange: reloadTls,
    debounceMs,
    pollMs,
    onError: (error) => {
      logger.error({ err: error }, 'certificate watch failed');
    },
  });
  await tlsWatch.check();

  let metricsServer: HttpServer | undefined;
  let metricsPort: number | undefined;
  try {
    await listen(server, options.port, options.address);
    if (options.metricsPort !== undefined) {
      const started = await startMetricsServer(metrics, options.address, options.metricsPort, logger);
      metricsServer = started.server;
      metricsPort = started.port;
    }
  } catch (error) {
    stopWatching(tlsWatch, templates);
    server.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;

  let stopping: Promise<{ forced: boolean }> | undefined;
  return {
    url: `https://${options.address.includes(':') ? `[${options.address}]` : options.address}:${port}`,
    port,
    metricsPort,
    metrics,
    events,
    readiness,
    templates: () => templates.current(),
    certificate: () => tls,
    shutdown({ deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS, delayMs = 0 } = {}) {
      shuttingDown = true;
      stopping ??= (async () => {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        logger.info('draining: no new connections, finishing in-flight requests');
        try {
          return await drain(server, metricsServer, deadlineMs, unused);
        } finally {
          stopWatching(tlsWatch, templates);
        }
      })();
      return stopping;
    },
  };
}

function validateDeps(
  options: ServerOptions,
  current: () => TemplateSet | undefined,
  sources: () => readonly TemplateSource[] | undefined,
): ValidateDeps {
  return {
    templates: current,
    templateSources: sources,
    workloads: options.workloads ?? 'deny',
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.injectorNamespace !== undefined ? { injectorNamespace: options.injectorNamespace } : {}),
    ...(options.templatesConfigMap !== undefined ? { templatesConfigMap: options.templatesConfigMap } : {}),
  };
}

function isMutatePath(url: string | undefined): boolean {
  // The apiserver calls `<path>?timeout=10s`.
  return url === MUTATE_PATH || (url?.startsWith(`${MUTATE_PATH}?`) ?? false);
}

function listen(server: Server, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function stopWatching(tlsWatch: ChangeWatch, templates: TemplateReloader): void {
  tlsWatch.close();
  templates.close();
}

/** Interval at which connections that went idle during the drain are closed. */
const IDLE_SWEEP_MS = 100;

async function drain(
  server: Server,
  metricsServer: HttpServer | undefined,
  deadlineMs: number,
  unused: UnusedConnections,
): Promise<{ forced: boolean }> {
  let forced = false;
  const closed = new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  server.closeIdleConnections();
  unused.close();
  // An answer sent while draining says Connection: close, but a response that was already under
  // way may not; sweep connections that go idle until none is left.
  const sweep = setInterval(() => {
    server.closeIdleConnections();
    unused.close();
  }, IDLE_SWEEP_MS);
  const deadline = setTimeout(() => {
    forced = true;
    server.closeAllConnections();
  }, deadlineMs);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
  if (metricsServer) {
    const metricsClosed = new Promise<void>((resolve) =>
      metricsServer.close(() => {
        resolve();
      }),
    );
    metricsServer.closeAllConnections();
    await metricsClosed;
  }
  return { forced };
}

function reportCertificate(metrics: Metrics, material: TlsMaterial): void {
  metrics.certificateExpiry.set(material.notAfter.getTime() / 1000);
  metrics.certificateNotBefore.set(material.notBefore.getTime() / 1000);
}

function reportTemplates(event: TemplateReload, dirs: TemplateDirs, metrics: Metrics, logger: Logger): void {
  const where = { dir: dirs.base, ...(dirs.extra !== undefined ? { extraDir: dirs.extra } : {}) };
  metrics.templatesLastReloadSuccessful.set(event.ok ? 1 : 0);
  if (event.ok) {
    metrics.templateReloads.inc({ result: 'success' });
    metrics.templatesLoaded.set(event.set.templates.size);
    recordTemplateSet(metrics, event.set.hash);
    logger.info(
      {
        ...where,
        templates: [...event.set.templates.keys()],
        hash: event.set.hash,
        ...(event.set.warnings.length > 0 ? { warnings: event.set.warnings } : {}),
        ...(event.previous ? { previousHash: event.previous.hash } : {}),
      },
      event.previous ? 'templates reloaded' : 'templates loaded',
    );
    return;
  }
  metrics.templateReloads.inc({ result: 'error' });
  logger.error(
    { ...where, problems: event.problems, ...(event.kept ? { keptHash: event.kept.hash } : {}) },
    event.kept
      ? 'template set rejected; the last good set stays in use'
      : 'template set rejected; no set in use',
  );
}
