// The built `sidekick` as a child process, the way a container runs it: its JSON log on stdout
// read line by line, its stderr kept for reports, SIGTERM to stop.
import { spawn, type ChildProcess } from 'node:child_process';
import type { JsonObject } from '../../src/json.js';
import { killOnExit, terminate } from './children.js';
import { JsonLines } from './json-lines.js';
import { SIDEKICK_MAIN } from './paths.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Log lines only to be counted (see JsonLines). */
  countOnly?: (text: string) => boolean;
}

export class SidekickProcess {
  readonly log: JsonLines;
  /** On 'close', not 'exit': by then its output has been read to the end. */
  readonly exited: Promise<Exit>;
  private stderrText = '';

  private constructor(
    private readonly child: ChildProcess,
    countOnly: ((text: string) => boolean) | undefined,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        resolve({ code, signal });
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrText += chunk.toString('utf8');
    });
    if (!child.stdout) throw new Error('no stdout from sidekick');
    this.log = new JsonLines(child.stdout, { countOnly, context: () => this.describe() });
  }

  /** `sidekick <args>`; killed when the test process exits, if it still runs then. */
  static spawn(args: readonly string[], options: SpawnOptions = {}): SidekickProcess {
    const child = spawn(process.execPath, [SIDEKICK_MAIN, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    return new SidekickProcess(child, options.countOnly);
  }

  get stderr(): string {
    return this.stderrText;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The `listening` log line; an error with stderr if the process exits first. */
  listening(timeoutMs: number): Promise<JsonObject> {
    return Promise.race([
      this.log.logged('listening', undefined, timeoutMs),
      this.exited.then((exit) => {
        throw new Error(`sidekick serve exited (${JSON.stringify(exit)}) before listening: ${this.stderr}`);
      }),
    ]);
  }

  signal(signal: NodeJS.Signals): boolean {
    return this.child.kill(signal);
  }

  /** SIGTERM, and how it ended (SIGKILL after `graceMs`). */
  stop(graceMs: number): Promise<Exit> {
    return terminate(this.child, this.exited, graceMs);
  }

  /** SIGKILL unless it has exited, and how it ended. */
  kill(): Promise<Exit> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Its log and stderr, for a failing test's report. */
  describe(): string {
    return [this.log.text(), this.stderr].join('\n');
  }
}
