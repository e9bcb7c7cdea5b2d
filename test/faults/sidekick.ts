// `sidekick serve` as a child process, the way a container runs it: its JSON log read line by line
// (the one-per-admission lines only counted), /readyz asked over TLS, SIGTERM to stop.
import type { JsonObject } from '../../src/json.js';
import { statusOf } from '../support/https-request.js';
import { serveArgs } from '../support/serve-args.js';
import { SidekickProcess, type Exit } from '../support/sidekick-process.js';

export type { Exit };

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

export class Sidekick {
  private constructor(
    private readonly serve: SidekickProcess,
    private readonly ca: string,
    readonly port: number,
  ) {}

  static async start(options: SidekickOptions): Promise<Sidekick> {
    const { ca, ...flags } = options;
    const serve = SidekickProcess.spawn(serveArgs({ ...flags, metricsPort: 0 }), {
      countOnly: (text) => text.includes('"msg":"admission"'),
    });
    const listening = await serve.listening(30_000);
    if (typeof listening.port !== 'number') throw new Error('the listening line has no port');
    return new Sidekick(serve, ca, listening.port);
  }

  /** Every log line except the per-admission ones. */
  get lines(): JsonObject[] {
    return this.serve.log.lines;
  }

  get admissions(): number {
    return this.serve.log.counted;
  }

  /** A line with this msg logged after `since` (epoch ms). */
  logged(msg: string, since: number, timeoutMs = 15_000): Promise<JsonObject> {
    return this.serve.log.logged(msg, since, timeoutMs);
  }

  logText(): string {
    return this.serve.describe();
  }

  /** GET /readyz, verifying the server against the CA. */
  readyz(): Promise<number> {
    return statusOf(this.port, '/readyz', this.ca);
  }

  /** SIGTERM, and how it ended (SIGKILL after `graceMs`). */
  stop(graceMs = 20_000): Promise<Exit> {
    return this.serve.stop(graceMs);
  }
}
