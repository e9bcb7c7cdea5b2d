import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { ensureSelfSignedCertificate } from '../server/selfsigned.js';
import type { TlsFiles } from '../server/tls.js';
import type { CommandIo } from './command.js';
import { UsageError } from './options.js';

/**
 * What `sidekick serve` and `sidekick relay` share as long-running HTTPS servers: their integer
 * options, their certificate files (or a self-signed pair made on first start), and the run from
 * start to a signal to a graceful stop.
 */
export function integerOption(name: string, value: string | undefined, min: number, max: number): number {
  const parsed = Number(value);
  if (value === undefined || !/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
    throw new UsageError(
      `--${name} must be an integer from ${String(min)} to ${String(max)}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

export interface TlsOptions {
  cert?: string;
  key?: string;
  clientCa?: string;
  certsDir: string;
  address: string;
}

/** --tls-cert/--tls-key as given, or a self-signed pair in --certs-dir, said on stderr. */
export async function servingTlsFiles(
  io: CommandIo,
  command: string,
  options: TlsOptions,
): Promise<TlsFiles> {
  const clientCa = options.clientCa !== undefined ? { clientCaFile: resolve(io.cwd, options.clientCa) } : {};
  if (options.cert !== undefined && options.key !== undefined) {
    return { certFile: resolve(io.cwd, options.cert), keyFile: resolve(io.cwd, options.key), ...clientCa };
  }
  if (options.cert !== undefined || options.key !== undefined) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  const made = await ensureSelfSignedCertificate(resolve(io.cwd, options.certsDir), options.address);
  io.stderr.write(
    `sidekick ${command}: ${made.generated ? 'generated' : 'using'} a self-signed certificate in ${made.dir}; ` +
      `trust its CA ${made.caFile} (e.g. curl --cacert ${made.caFile})\n`,
  );
  return { certFile: made.certFile, keyFile: made.keyFile, ...clientCa };
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

export interface Lifecycle<T> {
  start: () => Promise<T>;
  /** Logs what is listening. */
  listening: (running: T) => void;
  /** Stops gracefully after SIGTERM or SIGINT; the exit code. */
  stop: (running: T, signal: NodeJS.Signals) => Promise<number>;
}

/**
 * Starts, waits for SIGTERM/SIGINT, stops. The signal handlers are in place before the start, so
 * that a signal during a slow start (informers listing) is not lost; a failed start exits 1.
 */
export async function runUntilSignal<T>(logger: Logger, lifecycle: Lifecycle<T>): Promise<number> {
  const stopped = waitForSignal();
  let running: T;
  try {
    running = await lifecycle.start();
  } catch (error) {
    logger.fatal({ err: error }, 'cannot start');
    return 1;
  }
  lifecycle.listening(running);
  return lifecycle.stop(running, await stopped);
}
