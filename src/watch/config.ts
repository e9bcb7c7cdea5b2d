import { parseDuration } from './duration.js';
import { DEFAULT_HEALTH_PORT } from './health.js';
import { dirname } from 'node:path';
import { RELAY_TOKEN_PATH } from '../relay/protocol.js';
import { parseVolumeLayout, type VolumeLayout } from './volume-layout.js';

// By process.getBuiltinModule, not `import`, as the rest of `sidekick watch`: see health.ts.
const { constants } = process.getBuiltinModule('node:os');

export type NotifyMode =
  { kind: 'signal'; process: string; signal: NodeJS.Signals } | { kind: 'http'; url: URL };

/** Relay mode (SPEC section 7): where the files come from, and how they are laid out. */
export interface RelayConfig {
  url: URL;
  layouts: VolumeLayout[];
  tokenFile: string;
  caFile: string;
  startupTimeoutMs: number;
  fallbackIntervalMs: number;
}

export interface AgentConfig {
  dirs: string[];
  /** Relay mode; absent: volume mode (kubelet writes the directories). */
  relay?: RelayConfig;
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
  source?: string;
  relay?: string;
  relayVolumes?: readonly string[];
  relayToken?: string;
  relayCa?: string;
  relayStartupTimeout?: string;
  fallbackInterval?: string;
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

function relayUrl(text: string | undefined, problems: string[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(text ?? 'https://sidekick-relay.sidekick.svc');
  } catch {
    problems.push(`--relay: '${text ?? ''}' is not a URL`);
    return undefined;
  }
  if (url.protocol !== 'https:') problems.push(`--relay: '${url.href}' must be https://`);
  return url;
}

function layoutsOf(volumes: readonly string[], problems: string[]): VolumeLayout[] {
  if (volumes.length === 0) problems.push('--relay-volume: relay mode needs at least one volume to write');
  const layouts: VolumeLayout[] = [];
  for (const text of volumes) {
    const parsed = parseVolumeLayout(text);
    if (parsed.ok) layouts.push(parsed.layout);
    else problems.push(...parsed.problems);
  }
  return layouts;
}

function relayConfig(raw: RawWatchOptions, problems: string[]): RelayConfig | undefined {
  const source = raw.source ?? 'volume';
  const volumes = (raw.relayVolumes ?? []).filter((v) => v !== '');
  if (source !== 'relay') {
    if (source !== 'volume') problems.push(`--source: '${source}' is neither volume nor relay`);
    else if (volumes.length > 0) problems.push('--relay-volume applies to --source relay only');
    return undefined;
  }
  const url = relayUrl(raw.relay, problems);
  const layouts = layoutsOf(volumes, problems);
  const startupTimeoutMs = duration('relay-startup-timeout', raw.relayStartupTimeout, '10s', problems);
  const fallbackIntervalMs = duration('fallback-interval', raw.fallbackInterval, '1s', problems, 100);
  if (!url) return undefined;
  return {
    url,
    layouts,
    tokenFile: raw.relayToken ?? RELAY_TOKEN_PATH,
    // Beside the token, from the namespace's sidekick-relay-ca ConfigMap when there is one.
    caFile: raw.relayCa ?? `${dirname(RELAY_TOKEN_PATH)}/ca.crt`,
    startupTimeoutMs,
    fallbackIntervalMs,
  };
}

export function buildConfig(raw: RawWatchOptions): ConfigResult {
  const problems: string[] = [];
  const relay = relayConfig(raw, problems);
  // Relay mode watches the directories it writes, whether or not they are also given as --dir.
  const dirs = [...raw.dirs, ...(relay?.layouts.map((l) => l.dir) ?? [])].filter((d) => d !== '');
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
  return { ok: true, config: { ...config, mode, ...(relay ? { relay } : {}) } };
}
