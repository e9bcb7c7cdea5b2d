import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.js';
import {
  EventParser,
  PING_INTERVAL_MS,
  subscribeQuery,
  type ObjectRef,
  type RelayEvent,
} from '../relay/protocol.js';

/** The relay's reconnect policy (docs/relay-protocol): exponential from 0.5 s to 30 s, full jitter. */
export const RECONNECT = { initialMs: 500, maxMs: 30_000 };

/** Full jitter: a uniformly random delay up to the capped exponential, so clients spread out. */
export function reconnectDelay(attempt: number, random: () => number): number {
  const ceiling = Math.min(RECONNECT.maxMs, RECONNECT.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(random() * ceiling);
}

export interface RelayClientOptions {
  url: URL;
  objects: readonly ObjectRef[];
  tokenFile: string;
  /** PEM file of the CA to trust for the relay; absent or unreadable: the system's roots. */
  caFile?: string;
  logger: Logger;
  random?: () => number;
  /** No byte (not even a ping) for this long: the peer is taken as gone. */
  idleTimeoutMs?: number;
  onEvent: (event: RelayEvent) => void;
  /** The stream ended or could not be opened; reconnecting follows. */
  onDisconnect: (reason: string) => void;
}

interface Failure {
  reason: string;
  status?: number;
}

async function optionalFile(path: string | undefined): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

function errorBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (body.length < 4096) body += chunk;
    });
    response.on('end', () => {
      resolve(body);
    });
    response.on('error', () => {
      resolve(body);
    });
  });
}

/**
 * One subscription to the relay, kept open: the token file is read again on every connect
 * (kubelet rotates it), a failed or ended stream is retried after a full-jitter backoff, and a
 * `shutdown` event (a relay replica going away) reconnects at once, to another replica.
 */
export class RelayClient {
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private current: { destroy: () => void } | undefined;
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly options: RelayClientOptions) {
    this.random = options.random ?? Math.random;
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.current?.destroy();
  }

  private schedule(immediately: boolean): void {
    if (this.stopped) return;
    const delay = immediately ? 0 : reconnectDelay(this.attempt, this.random);
    this.attempt += immediately ? 0 : 1;
    this.options.logger.debug({ delayMs: delay }, 'reconnecting to the relay');
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const token = (await optionalFile(this.options.tokenFile))?.toString('utf8').trim();
    if (!token) {
      this.fail({ reason: `cannot read the relay token ${this.options.tokenFile}` }, false);
      return;
    }
    const ca = await optionalFile(this.options.caFile);
    const { url } = this.options;
    const base = url.pathname.replace(/\/+$/, '');
    const req = httpsRequest({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || 443,
      path: `${base}${subscribeQuery(this.options.objects)}`,
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      ...(ca ? { ca } : {}),
    });
    this.current = req;
    let settled = false;
    const end = (failure: Failure, immediately: boolean): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      this.fail(failure, immediately);
    };
    req.setTimeout(this.options.idleTimeoutMs ?? 3 * PING_INTERVAL_MS, () => {
      end({ reason: 'no data from the relay (not even a ping)' }, false);
    });
    req.on('error', (error) => {
      end({ reason: error.message }, false);
    });
    req.on('response', (response) => {
      if (response.statusCode !== 200) {
        void errorBody(response).then((body) => {
          end(
            { reason: `HTTP ${String(response.statusCode)}: ${body.trim()}`, status: response.statusCode },
            false,
          );
        });
        return;
      }
      this.options.logger.info({ relay: url.href }, 'subscribed to the relay');
      const parser = new EventParser();
      let shutdown = false;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        let events: RelayEvent[];
        try {
          events = parser.push(chunk);
        } catch (error) {
          // The stream cannot be trusted past a bad event: a new one starts with the full content.
          end(
            { reason: `bad event from the relay: ${error instanceof Error ? error.message : String(error)}` },
            false,
          );
          return;
        }
        for (const event of events) {
          if (event.event === 'synced') this.attempt = 0;
          if (event.event === 'shutdown') shutdown = true;
          this.options.onEvent(event);
        }
        if (shutdown) end({ reason: 'the relay is shutting down' }, true);
      });
      response.on('end', () => {
        end({ reason: 'the relay closed the stream' }, false);
      });
      response.on('error', (error) => {
        end({ reason: error.message }, false);
      });
    });
    req.end();
  }

  private fail(failure: Failure, immediately: boolean): void {
    if (this.stopped) return;
    this.current = undefined;
    this.options.onDisconnect(failure.reason);
    this.schedule(immediately);
  }
}
