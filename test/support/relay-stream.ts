import { request, type Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { EventParser, subscribeQuery, type ObjectRef, type RelayEvent } from '../../src/relay/protocol.js';

/** One subscription as config-watcher makes it: the answer's status, and then its events. */
export interface RelayStream {
  status: number;
  /** The JSON error body of a refused subscription. */
  error: string | undefined;
  events: RelayEvent[];
  /** Resolves with the first event from index `from` on that `match` accepts. */
  next(match: (event: RelayEvent) => boolean, timeoutMs?: number, from?: number): Promise<RelayEvent>;
  /** performance.now() of each event's arrival, by index. */
  arrivals: number[];
  closed: Promise<void>;
  close(): void;
}

export interface SubscribeOptions {
  origin: string;
  ca: string;
  token: string | undefined;
  objects: readonly ObjectRef[];
  agent?: Agent;
  onEvent?: (event: RelayEvent, at: number) => void;
}

export function subscribe(options: SubscribeOptions): Promise<RelayStream> {
  return new Promise((resolve, reject) => {
    const url = new URL(subscribeQuery(options.objects), options.origin);
    const req = request(
      url,
      {
        ca: options.ca,
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
        headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const events: RelayEvent[] = [];
        const arrivals: number[] = [];
        const waiters = new Set<() => void>();
        const parser = new EventParser();
        let body = '';
        const closed = new Promise<void>((done) => res.once('close', done));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (status !== 200) {
            body += chunk;
            return;
          }
          const now = performance.now();
          for (const event of parser.push(chunk)) {
            events.push(event);
            arrivals.push(now);
            options.onEvent?.(event, now);
          }
          for (const wake of [...waiters]) wake();
        });
        res.on('error', () => undefined);
        const stream: RelayStream = {
          status,
          error: undefined,
          events,
          arrivals,
          closed,
          close: () => req.destroy(),
          next: (match, timeoutMs = 10_000, from = 0) =>
            new Promise((found, failed) => {
              const look = (): boolean => {
                const hit = events.slice(from).find(match);
                if (hit === undefined) return false;
                waiters.delete(wake);
                clearTimeout(timer);
                found(hit);
                return true;
              };
              const wake = (): void => {
                look();
              };
              const timer = setTimeout(() => {
                waiters.delete(wake);
                failed(
                  new Error(
                    `no matching relay event in ${String(timeoutMs)} ms; got ${JSON.stringify(events)}`,
                  ),
                );
              }, timeoutMs);
              if (!look()) waiters.add(wake);
            }),
        };
        if (status === 200) {
          resolve(stream);
          return;
        }
        res.on('end', () => {
          try {
            const parsed = JSON.parse(body) as { error?: unknown };
            stream.error = typeof parsed.error === 'string' ? parsed.error : body;
          } catch {
            stream.error = body;
          }
          resolve(stream);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
