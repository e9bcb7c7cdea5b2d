import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SIDEKICK_MAIN as MAIN } from '../support/paths.js';

export const HUP_COUNTER = fileURLToPath(new URL('./fixtures/hup-counter.js', import.meta.url));

/** Polls `check` until it holds; fails with `what` after `timeoutMs` (a hang guard, not a speed claim). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A process name no other process on this shared machine has (15 bytes at most, so comm holds it whole). */
export function uniqueProcessName(prefix = 'skw'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`.slice(0, 15);
}

export function tempDir(prefix = 'sidekick-watch-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** Kubelet's timestamped directory prefix: `..2006_01_02_15_04_05.` in UTC, then a random suffix. */
function timestampPrefix(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.`;
}

/**
 * A ConfigMap volume as kubelet's AtomicWriter maintains it: content in `..<timestamp>.<random>/`,
 * `..data` → that directory, and one user-visible link per top-level key (`key` → `..data/key`).
 * `write` follows AtomicWriter.Write step by step, synchronously, so bursts are really bursts.
 */
export class KubeletDir {
  constructor(readonly path: string) {}

  static create(files: Record<string, string>, parent = tempDir()): KubeletDir {
    const dir = new KubeletDir(join(parent, 'config'));
    mkdirSync(dir.path, { mode: 0o755 });
    dir.write(files);
    return dir;
  }

  /** Publishes `files` (keys may contain `/`), even when identical to the current content. */
  write(files: Record<string, string>): void {
    const dataLink = join(this.path, '..data');
    const oldTs = existsSync(dataLink) ? readlinkSync(dataLink) : undefined;
    const oldTop = oldTs === undefined ? [] : readdirSync(join(this.path, oldTs));
    // (5) new timestamped directory, (6) the payload
    const ts = mkdtempSync(join(this.path, timestampPrefix()));
    chmodSync(ts, 0o755);
    for (const [key, content] of Object.entries(files)) {
      mkdirSync(dirname(join(ts, key)), { recursive: true });
      writeFileSync(join(ts, key), content, { mode: 0o644 });
    }
    // (8) ..data_tmp → new directory, (9) renamed over ..data: the atomic swap
    symlinkSync(basename(ts), join(this.path, '..data_tmp'));
    renameSync(join(this.path, '..data_tmp'), dataLink);
    // (10) user-visible links for new top-level names, (11) old names removed
    const newTop = new Set(Object.keys(files).map((k) => k.split('/')[0] ?? k));
    for (const name of newTop) {
      if (!isLink(join(this.path, name))) symlinkSync(join('..data', name), join(this.path, name));
    }
    for (const name of oldTop) {
      if (!newTop.has(name)) rmSync(join(this.path, name), { force: true });
    }
    // (12) the previous timestamped directory goes
    if (oldTs !== undefined) rmSync(join(this.path, oldTs), { recursive: true, force: true });
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function isLogLine(value: unknown): value is LogLine {
  return (
    typeof value === 'object' &&
    value !== null &&
    'msg' in value &&
    typeof value.msg === 'string' &&
    'level' in value &&
    typeof value.level === 'number'
  );
}

/** A real `sidekick watch` process, its pino lines parsed as they arrive. */
export class AgentProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  healthPort = 0;

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
    });
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          if (isLogLine(parsed)) this.logs.push(parsed);
        } catch {
          this.logs.push({ level: 0, msg: line });
        }
      });
    }
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  /** Starts the agent with a free loopback health port and waits until /ready answers 200. */
  static async start(
    args: readonly string[],
    options: { uid?: number; gid?: number; argv0?: string; waitReady?: boolean } = {},
  ): Promise<AgentProcess> {
    const child = spawn(
      process.execPath,
      [MAIN, 'watch', '--health-port', '0', '--health-address', '127.0.0.1', ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(options.argv0 === undefined ? {} : { argv0: options.argv0 }),
        ...(options.uid === undefined ? {} : { uid: options.uid }),
        ...(options.gid === undefined ? {} : { gid: options.gid }),
      },
    );
    const agent = new AgentProcess(child);
    try {
      const listening = await agent.waitForLog('health server listening', () => true);
      const port = listening.port;
      if (typeof port !== 'number') throw new Error('health log line has no port');
      agent.healthPort = port;
      if (options.waitReady !== false) {
        await waitFor('/ready to answer 200', async () => (await agent.probe('/ready')) === 200);
      }
    } catch (error) {
      await agent.stop();
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\nagent stderr: ${agent.stderr}`,
      );
    }
    return agent;
  }

  /** Waits for a log line whose msg contains `text`, at index `from` or later. */
  async waitForLog(text: string, match: (line: LogLine) => boolean = () => true, from = 0): Promise<LogLine> {
    let found: LogLine | undefined;
    await waitFor(`agent log '${text}'`, () => {
      found = this.logs.slice(from).find((l) => l.msg.includes(text) && match(l));
      if (found === undefined && this.child.exitCode !== null) {
        throw new Error(`agent exited (${this.child.exitCode}) before logging '${text}': ${this.stderr}`);
      }
      return found !== undefined;
    });
    if (found === undefined) throw new Error(`no log '${text}'`);
    return found;
  }

  count(text: string): number {
    return this.logs.filter((l) => l.msg.includes(text)).length;
  }

  probe(path: string): Promise<number> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: this.healthPort, path, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => {
        resolve(0);
      });
      req.end();
    });
  }

  /** SIGTERM, then the exit status; SIGKILL after `graceMs` so a hung agent cannot outlive the test. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The stand-in app: a real process with a unique name that counts the SIGHUPs it gets. */
export class HupCounter {
  hups = 0;
  private output = '';

  private constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      this.hups = [...this.output.matchAll(/^hup (\d+)$/gm)].length;
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('counter has no pid');
    return this.child.pid;
  }

  static async start(name: string, options: { uid?: number; gid?: number } = {}): Promise<HupCounter> {
    const child = spawn(process.execPath, [HUP_COUNTER, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    const counter = new HupCounter(child, name);
    await waitFor(`counter ${name} to start`, () => {
      if (child.exitCode !== null) throw new Error(`counter ${name} exited with ${child.exitCode}`);
      return counter.output.startsWith('ready ');
    });
    return counter;
  }

  async waitForHups(n: number): Promise<void> {
    await waitFor(`${this.name} to count ${n} SIGHUP(s) (has ${this.hups})`, () => this.hups >= n);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}
