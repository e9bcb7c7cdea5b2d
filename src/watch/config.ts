import { parseDuration } from './duration.js';
import { DEFAULT_HEALTH_PORT } from './health.js';

// By process.getBuiltinModule, not `import`, as the rest of `sidekick watch`: see health.ts.
const { constants } = process.getBuiltinModule('node:os');

export type NotifyMode =
  { kind: 'signal'; process: string; signal: NodeJS.Signals } | { kind: 'http'; url: URL };

export interface AgentConfig {
  dirs: string[];
  mode: NotifyMode;
  debounceMs: number;
  jitterMs: number;
  rescanMs: number;
  /** undefined: no health server. */
  healthPort: number | undefined;
  healthAddress: string | undefined;
}

/** The command line as strings, before checking. */
export interface RawWatchOptions {
  dirs: readonly string[];
  process?: string;
  signal?: string;
  url?: string;
  jitter?: string;
  debounce?: string;
  rescanInterval?: string;
  healthPort?: string;
  healthAddress?: string;
}

export type ConfigResult = { ok: true; config: AgentConfig } | { ok: false; problems: string[] };

/** setTimeout cannot wait longer than 2^31-1 ms; a day is far more than any sane value anyway. */
const MAX_DELAY_MS = 24 * 3_600_000;

export function signalName(text: string): NodeJS.Signals | undefined {
  const upper = text.trim().toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return Object.keys(constants.signals).find((s): s is NodeJS.Signals => s === name);
}

function duration(
  flag: string,
  text: string | undefined,
  fallback: string,
  problems: string[],
  min = 0,
): number {
  const parsed = parseDuration(text ?? fallback);
  if (!parsed.ok) {
    problems.push(`--${flag}: ${parsed.message}`);
    return 0;
  }
  if (parsed.ms < min || parsed.ms > MAX_DELAY_MS) {
    problems.push(`--${flag}: ${text ?? fallback} is out of range (${min}ms to 24h)`);
  }
  return parsed.ms;
}

function healthPort(text: string | undefined, problems: string[]): number | undefined {
  if (text === undefined) return DEFAULT_HEALTH_PORT;
  if (text === 'off' || text === 'none') return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    problems.push(
      `--health-port: '${text}' is not a port number (0-65535, 0 picks a free port, 'off' disables)`,
    );
    return undefined;
  }
  return Number(text);
}

function notifyMode(raw: RawWatchOptions, problems: string[]): NotifyMode | undefined {
  const hasProcess = raw.process !== undefined && raw.process !== '';
  const hasUrl = raw.url !== undefined && raw.url !== '';
  if (hasProcess === hasUrl) {
    problems.push('give exactly one of --process NAME (signal mode) and --url URL (HTTP mode)');
    return undefined;
  }
  if (hasUrl) {
    if (raw.signal !== undefined) problems.push('--signal applies to --process only');
    let url: URL;
    try {
      url = new URL(raw.url ?? '');
    } catch {
      problems.push(`--url: '${raw.url ?? ''}' is not a URL`);
      return undefined;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push(`--url: '${url.href}' must be http:// or https://`);
      return undefined;
    }
    return { kind: 'http', url };
  }
  const signal = signalName(raw.signal ?? 'HUP');
  if (signal === undefined) {
    problems.push(`--signal: unknown signal '${raw.signal ?? ''}' (e.g. HUP, USR1, USR2)`);
    return undefined;
  }
  return { kind: 'signal', process: raw.process ?? '', signal };
}

export function buildConfig(raw: RawWatchOptions): ConfigResult {
  const problems: string[] = [];
  const dirs = raw.dirs.filter((d) => d !== '');
  if (dirs.length === 0) problems.push('--dir: at least one directory to watch is required');
  const mode = notifyMode(raw, problems);
  const config = {
    dirs: [...new Set(dirs)],
    debounceMs: duration('debounce', raw.debounce, '1s', problems),
    jitterMs: duration('jitter', raw.jitter, '0s', problems),
    rescanMs: duration('rescan-interval', raw.rescanInterval, '5s', problems, 100),
    healthPort: healthPort(raw.healthPort, problems),
    healthAddress: raw.healthAddress === '' ? undefined : raw.healthAddress,
  };
  if (problems.length > 0 || mode === undefined) return { ok: false, problems };
  return { ok: true, config: { ...config, mode } };
}
