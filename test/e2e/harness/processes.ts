import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { killChildren, killOnExit, terminate } from '../../support/children.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: Error;
}

const scratchDirs = new Set<string>();
let hooked = false;

function killAndClean(): void {
  killChildren();
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
}

/**
 * Child processes and scratch directories must not outlive the test process, however it ends
 * (a failed hook, an interrupted run): the normal path stops them in `after` hooks, this is the
 * safety net.
 */
function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAndClean);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAndClean();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Removes `dir` when the process exits, unless forgotten first (after a normal removal). */
export function removeOnExit(dir: string): void {
  hookProcessExit();
  scratchDirs.add(dir);
}

export function forgetOnExit(dir: string): void {
  scratchDirs.delete(dir);
}

export interface StartOptions {
  logDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** A child process whose output goes to a log file, stopped with SIGTERM and then SIGKILL. */
export class ManagedProcess {
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  private constructor(
    readonly name: string,
    readonly logPath: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      const done = (exit: Exit): void => {
        this.exit ??= exit;
        resolve(this.exit);
      };
      child.once('exit', (code, signal) => {
        done({ code, signal });
      });
      child.once('error', (error) => {
        done({ code: null, signal: null, error });
      });
    });
  }

  static start(
    name: string,
    command: string,
    args: readonly string[],
    options: StartOptions,
  ): ManagedProcess {
    hookProcessExit();
    const logPath = join(options.logDir, `${name}.log`);
    const fd = openSync(logPath, 'a');
    try {
      const child = spawn(command, args, {
        stdio: ['ignore', fd, fd],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
      killOnExit(child);
      return new ManagedProcess(name, logPath, child);
    } finally {
      closeSyncQuietly(fd);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with how it ended. */
  async stop(graceMs = 5000): Promise<Exit> {
    if (this.exit) return this.exit;
    return terminate(this.child, this.exited, graceMs);
  }

  /** The last lines of the log, for a failing test's report. */
  tail(lines = 40): string {
    let text: string;
    try {
      text = readFileSync(this.logPath, 'utf8');
    } catch {
      return `(no log at ${this.logPath})`;
    }
    const all = text.trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  }

  describe(): string {
    const exit = this.exit;
    const state = exit
      ? (exit.error?.message ?? `exited (code ${String(exit.code)}, signal ${String(exit.signal)})`)
      : 'running';
    return `${this.name} [pid ${String(this.pid)}, ${state}] ${this.logPath}`;
  }
}

function closeSyncQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
