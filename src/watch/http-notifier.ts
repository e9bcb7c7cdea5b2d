import type { Logger } from '../log.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { ChangeSummary, Notifier } from './notifier.js';

export type PostResult = { ok: true; status: number } | { ok: false; status?: number; error: string };

/** One POST with an empty body; 2xx is success. Never rejects. */
export function postOnce(url: URL, signal: AbortSignal, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve) => {
    // Loaded at the first notification, not at start: an https URL is the rare case.
    const { request } =
      url.protocol === 'https:'
        ? process.getBuiltinModule('node:https')
        : process.getBuiltinModule('node:http');
    const req = request(url, {
      method: 'POST',
      // A fresh connection per attempt: no pooled socket outlives a notification.
      agent: false,
      signal,
      timeout: timeoutMs,
      headers: { 'content-length': '0', 'user-agent': 'sidekick-watch' },
    });
    req.on('timeout', () => {
      req.destroy(new Error(`no response within ${timeoutMs}ms`));
    });
    req.on('error', (error) => {
      resolve({ ok: false, error: error.message });
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const done = () => {
        resolve(
          status >= 200 && status < 300
            ? { ok: true, status }
            : { ok: false, status, error: `HTTP ${status}` },
        );
      };
      res.on('end', done);
      res.on('error', done);
    });
    req.end();
  });
}

export interface HttpNotifierOptions {
  url: URL;
  logger: Logger;
  random?: () => number;
  backoff?: BackoffPolicy;
  timeoutMs?: number;
}

export interface DeliveryReport {
  delivered: boolean;
  attempts: number;
  status?: number;
}

/**
 * HTTP mode: POST to the app's reload endpoint until it answers 2xx, with capped exponential
 * backoff. A newer change supersedes the retries of an older one (one reload covers both); the
 * agent never gives up and never exits over a failed notification.
 */
export class HttpNotifier implements Notifier {
  private current: AbortController | undefined;
  private closed = false;

  constructor(private readonly options: HttpNotifierOptions) {}

  async notify(change: ChangeSummary): Promise<DeliveryReport> {
    this.current?.abort();
    const controller = new AbortController();
    this.current = controller;
    const { logger, url } = this.options;
    const random = this.options.random ?? Math.random;
    const target = url.href;
    // A function, not a property read: the signal flips while awaiting.
    const superseded = (): boolean => controller.signal.aborted;
    let attempt = 0;
    while (!superseded() && !this.closed) {
      attempt++;
      const result = await postOnce(url, controller.signal, this.options.timeoutMs ?? 10_000);
      if (superseded()) break;
      if (result.ok) {
        logger.info(
          { url: target, status: result.status, attempts: attempt, change },
          'reload notification delivered',
        );
        return { delivered: true, attempts: attempt, status: result.status };
      }
      const retryInMs = backoffDelay(attempt - 1, random, this.options.backoff ?? DEFAULT_BACKOFF);
      logger.warn(
        { url: target, status: result.status, error: result.error, attempt, retryInMs },
        'reload notification failed; will retry',
      );
      try {
        await process
          .getBuiltinModule('node:timers/promises')
          .setTimeout(retryInMs, undefined, { signal: controller.signal });
      } catch {
        break;
      }
    }
    if (!this.closed) logger.info({ url: target }, 'reload notification superseded by a newer change');
    return { delivered: false, attempts: attempt };
  }

  close(): void {
    this.closed = true;
    this.current?.abort();
  }
}
