import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function isLogLevel(value: string): value is LevelWithSilent {
  return LEVELS.includes(value);
}

/** JSON lines on stderr for commands whose stdout is data, on stdout for the server. */
export function createLogger(level: LevelWithSilent, destination: 1 | 2 = 1): Logger {
  return pino(
    { level, base: { name: 'sidekick' } },
    pino.destination({ fd: destination, sync: destination === 2 }),
  );
}
