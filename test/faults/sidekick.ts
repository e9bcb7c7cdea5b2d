// `sidekick serve` as a child process, the way a container runs it: its JSON log read line by line
// (the one-per-admission lines only counted), /readyz asked over TLS, SIGTERM to stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isObject, type JsonObject } from '../../src/json.js';
import { statusOf } from '../support/https-request.js';
import { SIDEKICK_MAIN } from '../support/paths.js';

const running = new Set<ChildProcess>();
let hooked = false;

/** A failed test must not leave servers behind. */
function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

export interface SidekickOptions {
  /** 0: any free port (read back from the log). */
  port: number;
  certFile: string;
  keyFile: string;
  /** CA (PEM) to verify the server with when asking /readyz. */
  ca: string;
  templatesDir: string;
  extraArgs?: string[];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Sidekick {
  /** Every log line except the per-admission ones. */
  readonly lines: JsonObject[] = [];
  admissions = 0;
  port = 0;
  readonly exited: Promise<Exit>;
  private stderr = '';
  private readonly waiters: { accept: (line: JsonObject) => boolean; resolve: (line: JsonObject) => void }[] =
    [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly ca: string,
  ) {
    // 'close', not 'exit': by then its output has been read to the end.
    this.exited = new Promise((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        resolve({ code, signal });
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    if (!child.stdout) throw new Error('no stdout from sidekick serve');
    createInterface({ input: child.stdout }).on('line', (text) => {
      this.onLine(text);
    });
  }

  static async start(options: SidekickOptions): Promise<Sidekick> {
    const child = spawn(
      process.execPath,
      [
        SIDEKICK_MAIN,
        'serve',
        '--address=127.0.0.1',
        `--port=${String(options.port)}`,
        '--metrics-port=0',
        `--tls-cert=${options.certFile}`,
        `--tls-key=${options.keyFile}`,
        `--templates=${options.templatesDir}`,
        '--injector-namespace=sidekick',
        '--log-level=info',
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    killOnExit(child);
    const sidekick = new Sidekick(child, options.ca);
    const listening = await Promise.race([
      sidekick.next((line) => line.msg === 'listening', 30_000),
      sidekick.exited.then((exit) => {
        throw new Error(
          `sidekick serve exited (${JSON.stringify(exit)}) before listening: ${sidekick.stderr}`,
        );
      }),
    ]);
    if (typeof listening.port !== 'number') throw new Error('the listening line has no port');
    sidekick.port = listening.port;
    return sidekick;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onLine(text: string): void {
    // At ~1,000 admissions a second only the other lines are worth parsing.
    if (text.includes('"msg":"admission"')) {
      this.admissions += 1;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (!isObject(parsed)) return;
    this.lines.push(parsed);
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.accept(parsed)) waiter.resolve(parsed);
      else this.waiters.push(waiter);
    }
  }

  /** The first line, already seen or to come, that `accept` takes. */
  next(accept: (line: JsonObject) => boolean, timeoutMs = 15_000): Promise<JsonObject> {
    const seen = this.lines.find(accept);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no such log line in ${String(timeoutMs)} ms; log so far:\n${this.logText()}`));
      }, timeoutMs);
      this.waiters.push({
        accept,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** A line with this msg logged after `since` (epoch ms). */
  logged(msg: string, since: number, timeoutMs = 15_000): Promise<JsonObject> {
    return this.next(
      (line) => line.msg === msg && typeof line.time === 'number' && line.time >= since,
      timeoutMs,
    );
  }

  logText(): string {
    return [...this.lines.map((line) => JSON.stringify(line)), this.stderr].join('\n');
  }

  /** GET /readyz, verifying the server against the CA. */
  readyz(): Promise<number> {
    return statusOf(this.port, '/readyz', this.ca);
  }

  /** SIGTERM, and how it ended (SIGKILL after `graceMs`). */
  async stop(graceMs = 20_000): Promise<Exit> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
