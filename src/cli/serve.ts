import type { LevelWithSilent } from 'pino';
import { DEFAULT_TEMPLATES_CONFIGMAP, WORKLOADS_MODES, type WorkloadsMode } from '../admission/index.js';
import { createLogger, isLogLevel } from '../log.js';
import { DEFAULT_MAX_BODY_BYTES } from '../server/body.js';
import { DEFAULT_SHUTDOWN_DEADLINE_MS, startServer, type RunningServer } from '../server/server.js';
import type { TlsFiles } from '../server/tls.js';
import type { TemplateDirs } from '../templates/load.js';
import type { Command, CommandIo } from './command.js';
import { templateDirs } from './input.js';
import { integerOption, runUntilSignal, servingTlsFiles } from './lifecycle.js';
import { COMMON_OPTIONS, imageOption, parseOptions, usage, UsageError, type OptionSpecs } from './options.js';

const SERVE_OPTIONS = {
  address: { type: 'string', default: '127.0.0.1', description: 'address to listen on' },
  port: { type: 'string', default: '8443', description: 'HTTPS port of the webhook (0: any free port)' },
  'tls-cert': { type: 'string', description: 'serving certificate (PEM), reloaded when it changes' },
  'tls-key': { type: 'string', description: 'its private key (PEM), reloaded when it changes' },
  'client-ca': {
    type: 'string',
    description: 'CA (PEM) that callers of /mutate must present a client certificate from',
  },
  'certs-dir': {
    type: 'string',
    default: 'certs',
    description: 'where a self-signed CA and certificate are made when --tls-cert/--tls-key are not given',
  },
  'metrics-port': {
    type: 'string',
    default: '9090',
    description: 'plain-HTTP port for GET /metrics on the same address (0: no metrics listener)',
  },
  'injector-namespace': {
    type: 'string',
    description: "the webhook's own namespace, never injected (default: $POD_NAMESPACE)",
  },
  workloads: {
    type: 'string',
    default: 'deny',
    description: 'what POST /validate does with a workload whose Pods would be refused: deny or warn',
  },
  'templates-configmap': {
    type: 'string',
    default: DEFAULT_TEMPLATES_CONFIGMAP,
    description: 'the ConfigMap in the injector namespace whose templates POST /validate checks',
  },
  'max-body': {
    type: 'string',
    default: String(DEFAULT_MAX_BODY_BYTES),
    description: 'largest request body in bytes; larger ones get 413',
  },
  'shutdown-delay': {
    type: 'string',
    default: '0',
    description: 'seconds to keep serving, not ready, after SIGTERM before closing the listener',
  },
  'shutdown-timeout': {
    type: 'string',
    default: String(DEFAULT_SHUTDOWN_DEADLINE_MS / 1000),
    description: 'seconds to let in-flight requests finish after SIGTERM',
  },
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

type ServeOptions = ReturnType<typeof parseOptions<typeof SERVE_OPTIONS>>['options'];

interface Settings {
  level: LevelWithSilent;
  address: string;
  port: number;
  metricsPort: number;
  maxBodyBytes: number;
  shutdownSeconds: number;
  delaySeconds: number;
  injectorNamespace: string | undefined;
  templates: TemplateDirs;
  prefix: string | undefined;
  workloads: WorkloadsMode;
  templatesConfigMap: string;
  image: string;
}

function workloadsMode(value: string | undefined): WorkloadsMode {
  const mode = WORKLOADS_MODES.find((m) => m === value);
  if (mode === undefined)
    throw new UsageError(`--workloads must be deny or warn, got ${JSON.stringify(value)}`);
  return mode;
}

function settings(options: ServeOptions, io: CommandIo): Settings {
  const level = options['log-level'] ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level ${level} is not a pino level`);
  return {
    level,
    address: options.address ?? '127.0.0.1',
    port: integerOption('port', options.port, 0, 65535),
    metricsPort: integerOption('metrics-port', options['metrics-port'], 0, 65535),
    maxBodyBytes: integerOption('max-body', options['max-body'], 1, 2 ** 31),
    shutdownSeconds: integerOption('shutdown-timeout', options['shutdown-timeout'], 0, 3600),
    delaySeconds: integerOption('shutdown-delay', options['shutdown-delay'], 0, 3600),
    injectorNamespace: options['injector-namespace'] ?? io.env.POD_NAMESPACE,
    templates: templateDirs(io, options.templates, options['extra-templates']),
    prefix: options.prefix,
    workloads: workloadsMode(options.workloads),
    templatesConfigMap: options['templates-configmap'] ?? DEFAULT_TEMPLATES_CONFIGMAP,
    image: imageOption(options.image),
  };
}

export const serve: Command = async (io) => {
  const { options, positionals } = parseOptions(SERVE_OPTIONS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage('serve [options]', SERVE_OPTIONS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals.join(' ')}`);
  const config = settings(options, io);
  const tls = await servingTlsFiles(io, 'serve', {
    ...(options['tls-cert'] !== undefined ? { cert: options['tls-cert'] } : {}),
    ...(options['tls-key'] !== undefined ? { key: options['tls-key'] } : {}),
    ...(options['client-ca'] !== undefined ? { clientCa: options['client-ca'] } : {}),
    certsDir: options['certs-dir'] ?? 'certs',
    address: config.address,
  });
  return run(config, tls);
};

async function run(config: Settings, tls: TlsFiles): Promise<number> {
  const logger = createLogger(config.level, 1);
  return runUntilSignal<RunningServer>(logger, {
    start: () =>
      startServer({
        address: config.address,
        port: config.port,
        tls,
        templatesDir: config.templates.base,
        ...(config.templates.extra !== undefined ? { extraTemplatesDir: config.templates.extra } : {}),
        ...(config.metricsPort !== 0 ? { metricsPort: config.metricsPort } : {}),
        ...(config.prefix !== undefined ? { prefix: config.prefix } : {}),
        ...(config.injectorNamespace ? { injectorNamespace: config.injectorNamespace } : {}),
        maxBodyBytes: config.maxBodyBytes,
        workloads: config.workloads,
        templatesConfigMap: config.templatesConfigMap,
        image: config.image,
        logger,
        processMetrics: true,
      }),
    listening: (running) => {
      logger.info(
        {
          url: running.url,
          port: running.port,
          metricsPort: running.metricsPort ?? null,
          certFile: tls.certFile,
          templatesDir: config.templates.base,
          ...(config.templates.extra !== undefined ? { extraTemplatesDir: config.templates.extra } : {}),
          ready: running.readiness().ready,
        },
        'listening',
      );
    },
    stop: async (running, signal) => {
      logger.info({ signal, delaySeconds: config.delaySeconds }, 'shutting down: not ready');
      const { forced } = await running.shutdown({
        deadlineMs: config.shutdownSeconds * 1000,
        delayMs: config.delaySeconds * 1000,
      });
      if (forced) {
        logger.warn(
          { deadlineSeconds: config.shutdownSeconds },
          'stopped: cut connections still open at the deadline',
        );
      } else {
        logger.info('stopped');
      }
      return forced ? 1 : 0;
    },
  });
}
