import { createLogger, isLogLevel } from '../log.js';
import { DEFAULT_RATE, startRelay, type RunningRelay } from '../relay/server.js';
import { RELAY_PORT } from '../relay/protocol.js';
import type { Command } from './command.js';
import { loadKubeConfig } from './kubeconfig.js';
import { integerOption, runUntilSignal, servingTlsFiles } from './lifecycle.js';
import { parseOptions, PROCESS_OPTIONS, usage, UsageError, type OptionSpecs } from './options.js';

const RELAY_OPTIONS = {
  address: { type: 'string', default: '127.0.0.1', description: 'address to listen on' },
  port: {
    type: 'string',
    default: String(RELAY_PORT),
    description: 'HTTPS port of the relay (0: any free port)',
  },
  'tls-cert': { type: 'string', description: 'serving certificate (PEM), reloaded when it changes' },
  'tls-key': { type: 'string', description: 'its private key (PEM), reloaded when it changes' },
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
  kubeconfig: {
    type: 'string',
    description: 'kubeconfig file (default: $KUBECONFIG, the in-cluster account, ~/.kube/config)',
  },
  secrets: { type: 'boolean', description: 'also watch and serve Secrets (off: Secret requests get 403)' },
  namespaces: {
    type: 'string',
    description:
      'comma-separated namespaces to watch, one watch each (default: the whole cluster, one watch)',
  },
  rate: {
    type: 'string',
    default: String(DEFAULT_RATE),
    description: 'subscribers a second a change is delivered to, in random order',
  },
  'shutdown-timeout': {
    type: 'string',
    default: '10',
    description: 'seconds after SIGTERM before streams still open are cut',
  },
  ...PROCESS_OPTIONS,
} as const satisfies OptionSpecs;

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function namespaces(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  const list = [...new Set(value.split(',').map((ns) => ns.trim()))];
  const bad = list.find((ns) => !NAMESPACE.test(ns) || ns.length > 63);
  if (bad !== undefined) throw new UsageError(`--namespaces: ${JSON.stringify(bad)} is not a namespace name`);
  return list;
}

export const relay: Command = async (io) => {
  const { options, positionals } = parseOptions(RELAY_OPTIONS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage('relay [options]', RELAY_OPTIONS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals.join(' ')}`);
  const level = options['log-level'] ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level ${level} is not a pino level`);
  const address = options.address ?? '127.0.0.1';
  const port = integerOption('port', options.port, 0, 65535);
  const metricsPort = integerOption('metrics-port', options['metrics-port'], 0, 65535);
  const rate = integerOption('rate', options.rate, 1, 1_000_000);
  const shutdownSeconds = integerOption('shutdown-timeout', options['shutdown-timeout'], 0, 3600);
  const watchNamespaces = namespaces(options.namespaces);
  const kubeConfig = loadKubeConfig(options.kubeconfig, io.env);
  const tls = await servingTlsFiles(io, 'relay', {
    ...(options['tls-cert'] !== undefined ? { cert: options['tls-cert'] } : {}),
    ...(options['tls-key'] !== undefined ? { key: options['tls-key'] } : {}),
    certsDir: options['certs-dir'] ?? 'certs',
    address,
  });

  const logger = createLogger(level, 1);
  return runUntilSignal<RunningRelay>(logger, {
    start: () =>
      startRelay({
        address,
        port,
        tls,
        kubeConfig,
        secrets: options.secrets,
        namespaces: watchNamespaces,
        rate,
        ...(metricsPort !== 0 ? { metricsPort } : {}),
        logger,
        processMetrics: true,
      }),
    listening: (running) => {
      logger.info(
        {
          url: running.url,
          metricsPort: running.metricsPort ?? null,
          secrets: options.secrets,
          namespaces: watchNamespaces.length === 0 ? 'all' : watchNamespaces,
          rate,
        },
        'listening',
      );
    },
    stop: async (running, signal) => {
      logger.info(
        { signal, subscribers: running.subscribers() },
        'shutting down: telling subscribers to reconnect',
      );
      const { forced } = await running.shutdown(shutdownSeconds * 1000);
      if (forced) logger.warn('stopped: cut streams still open at the deadline');
      else logger.info('stopped');
      return 0;
    },
  });
};
