import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { isObject, type JsonObject } from '../../src/json.js';

export interface JsonLinesOptions {
  /**
   * Lines this takes are counted, not parsed or kept (at ~1,000 admissions a second only the
   * other lines are worth parsing).
   */
  countOnly?: (text: string) => boolean;
  /** What a timed-out wait reports; the lines kept so far by default. */
  context?: () => string;
}

/** The JSON lines a process writes (its log), kept as they come, and a way to wait for one. */
export class JsonLines {
  readonly lines: JsonObject[] = [];
  /** Lines taken by `countOnly`. */
  counted = 0;
  private readonly waiters: { accept: (line: JsonObject) => boolean; resolve: (line: JsonObject) => void }[] =
    [];

  constructor(
    input: Readable,
    private readonly options: JsonLinesOptions = {},
  ) {
    createInterface({ input }).on('line', (text) => {
      this.onLine(text);
    });
  }

  private onLine(text: string): void {
    if (this.options.countOnly?.(text)) {
      this.counted += 1;
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
  next(
    accept: (line: JsonObject) => boolean,
    timeoutMs = 15_000,
    what = 'such log line',
  ): Promise<JsonObject> {
    const seen = this.lines.find(accept);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const context = this.options.context?.() ?? this.text();
        reject(new Error(`no ${what} within ${String(timeoutMs)} ms; log so far:\n${context}`));
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

  /** A line with this msg, logged at or after `since` (epoch ms) when that is given. */
  logged(msg: string, since?: number, timeoutMs = 15_000): Promise<JsonObject> {
    return this.next(
      (line) =>
        line.msg === msg && (since === undefined || (typeof line.time === 'number' && line.time >= since)),
      timeoutMs,
      `log line "${msg}"`,
    );
  }

  text(): string {
    return this.lines.map((line) => JSON.stringify(line)).join('\n');
  }
}
