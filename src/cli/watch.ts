import { isLogLevel, createLogger } from '../log.js';
import { WatchAgent } from '../watch/agent.js';
import { buildConfig } from '../watch/config.js';
import { DEFAULT_HEALTH_PORT } from '../watch/health.js';
import { RelaySource } from '../watch/relay-source.js';
import type { Command } from './command.js';
import { parseOptions, PROCESS_OPTIONS, usage, UsageError, type OptionSpecs } from './options.js';

const SPECS = {
  dir: {
    type: 'string',
    multiple: true,
    description: 'directory to watch (repeat, or list several after one --dir)',
  },
  process: { type: 'string', description: 'signal mode: name (comm or argv[0]) of the processes to signal' },
  signal: { type: 'string', description: 'signal mode: the signal to send (default HUP)' },
  url: { type: 'string', description: 'HTTP mode: URL to POST to, retried with backoff until 2xx' },
  debounce: { type: 'string', default: '1s', description: 'quiet time after the last change before acting' },
  jitter: { type: 'string', default: '0s', description: 'wait a random 0..jitter before notifying' },
  'rescan-interval': {
    type: 'string',
    default: '5s',
    description: 'full rescan period (catches changes file events miss)',
  },
  'health-port': {
    type: 'string',
    default: String(DEFAULT_HEALTH_PORT),
    description: "/ready and /healthz port; 0 picks a free port, 'off' disables",
  },
  'health-address': { type: 'string', description: 'address the health port binds (default: all)' },
  source: {
    type: 'string',
    default: 'volume',
    description:
      'volume (kubelet writes the directories) or relay (this agent writes them from sidekick relay)',
  },
  relay: {
    type: 'string',
    description: 'relay mode: the relay URL (default https://sidekick-relay.sidekick.svc)',
  },
  'relay-volume': {
    type: 'string',
    multiple: true,
    description: 'relay mode: JSON layout of one volume to write (the webhook derives it from the Pod)',
  },
  'relay-token': {
    type: 'string',
    description:
      'relay mode: the token file, read at every connect (default /var/run/secrets/sidekick.dev/relay/token)',
  },
  'relay-ca': {
    type: 'string',
    description:
      "relay mode: CA file for the relay's certificate (default /var/run/secrets/sidekick.dev/relay/ca.crt)",
  },
  'relay-startup-timeout': {
    type: 'string',
    default: '10s',
    description: 'relay mode: start from the kubelet-mounted volumes if the relay has sent nothing by then',
  },
  'fallback-interval': {
    type: 'string',
    default: '1s',
    description: 'relay mode: how often the kubelet-mounted volumes are read while the relay is unreachable',
  },
  ...PROCESS_OPTIONS,
} as const satisfies OptionSpecs;

const USAGE_LINE =
  'watch (--dir DIR... | --source relay --relay URL --relay-volume JSON...) (--process NAME [--signal HUP] | --url URL) [options]';

export const watch: Command = async (io) => {
  const { options, positionals } = parseOptions(SPECS, io.argv, io.env);
  if (options.help) {
    io.stdout.write(usage(USAGE_LINE, SPECS));
    return 0;
  }
  const level = options['log-level'] ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level: unknown level '${level}'`);
  const built = buildConfig({
    dirs: [...options.dir, ...positionals],
    process: options.process,
    signal: options.signal,
    url: options.url,
    debounce: options.debounce,
    jitter: options.jitter,
    rescanInterval: options['rescan-interval'],
    healthPort: options['health-port'],
    healthAddress: options['health-address'],
    source: options.source,
    relay: options.relay,
    relayVolumes: options['relay-volume'],
    relayToken: options['relay-token'],
    relayCa: options['relay-ca'],
    relayStartupTimeout: options['relay-startup-timeout'],
    fallbackInterval: options['fallback-interval'],
  });
  if (!built.ok) throw new UsageError(built.problems.join('\n'));

  const logger = createLogger(level, 1);
  const relay = built.config.relay
    ? new RelaySource({ ...built.config.relay, logger: logger.child({ component: 'relay' }) })
    : undefined;
  const agent = new WatchAgent(built.config, {
    logger,
    selfPid: process.pid,
    selfUid: process.getuid?.(),
    ...(relay ? { contentReady: relay.ready } : {}),
  });
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = resolve;
  });
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  relay?.start();
  let signal: NodeJS.Signals;
  try {
    // Relay mode may wait long for its first content; a SIGTERM meanwhile still stops it.
    const first = await Promise.race([agent.start().then(() => undefined), stopped]);
    signal = first ?? (await stopped);
  } catch (error) {
    logger.fatal({ err: error }, 'cannot start the config watcher');
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await relay?.stop();
    await agent.stop();
    return 1;
  }
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  logger.info({ signal }, 'shutting down');
  await relay?.stop();
  await agent.stop();
  return 0;
};
