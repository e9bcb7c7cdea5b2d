import { resolve } from 'node:path';
import { createLogger, isLogLevel } from '../log.js';
import { DEFAULT_RATE, startRelay, type RunningRelay } from '../relay/server.js';
import { RELAY_PORT } from '../relay/protocol.js';
import { ensureSelfSignedCertificate } from '../server/selfsigned.js';
import type { TlsFiles } from '../server/tls.js';
import type { Command, CommandIo } from './command.js';
import { loadKubeConfig } from './kubeconfig.js';
import { COMMON_OPTIONS, parseOptions, usage, UsageError, type OptionSpecs } from './options.js';

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
  ...COMMON_OPTIONS,
} as const satisfies OptionSpecs;

function integer(name: string, value: string | undefined, min: number, max: number): number {
  const parsed = Number(value);
  if (value === undefined || !/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
    throw new UsageError(
      `--${name} must be an integer from ${String(min)} to ${String(max)}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function namespaces(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  const list = [...new Set(value.split(',').map((ns) => ns.trim()))];
  const bad = list.find((ns) => !NAMESPACE.test(ns) || ns.length > 63);
  if (bad !== undefined) throw new UsageError(`--namespaces: ${JSON.stringify(bad)} is not a namespace name`);
  return list;
}

async function tlsFiles(
  io: CommandIo,
  cert: string | undefined,
  key: string | undefined,
  certsDir: string,
  address: string,
): Promise<TlsFiles> {
  if (cert !== undefined && key !== undefined) {
    return { certFile: resolve(io.cwd, cert), keyFile: resolve(io.cwd, key) };
  }
  if (cert !== undefined || key !== undefined) throw new UsageError('--tls-cert and --tls-key go together');
  const made = await ensureSelfSignedCertificate(resolve(io.cwd, certsDir), address);
  io.stderr.write(
    `sidekick relay: ${made.generated ? 'generated' : 'using'} a self-signed certificate in ${made.dir}; trust its CA ${made.caFile}\n`,
  );
  return { certFile: made.certFile, keyFile: made.keyFile };
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolveSignal(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
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
  const port = integer('port', options.port, 0, 65535);
  const metricsPort = integer('metrics-port', options['metrics-port'], 0, 65535);
  const rate = integer('rate', options.rate, 1, 1_000_000);
  const shutdownSeconds = integer('shutdown-timeout', options['shutdown-timeout'], 0, 3600);
  const watchNamespaces = namespaces(options.namespaces);
  const kubeConfig = loadKubeConfig(options.kubeconfig, io.env);
  const tls = await tlsFiles(
    io,
    options['tls-cert'],
    options['tls-key'],
    options['certs-dir'] ?? 'certs',
    address,
  );

  const logger = createLogger(level, 1);
  const stopped = waitForSignal();
  let running: RunningRelay;
  try {
    running = await startRelay({
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
    });
  } catch (error) {
    logger.fatal({ err: error }, 'cannot start');
    return 1;
  }
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
  const signal = await stopped;
  logger.info(
    { signal, subscribers: running.subscribers() },
    'shutting down: telling subscribers to reconnect',
  );
  const { forced } = await running.shutdown(shutdownSeconds * 1000);
  if (forced) logger.warn('stopped: cut streams still open at the deadline');
  else logger.info('stopped');
  return 0;
};
