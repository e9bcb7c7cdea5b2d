// An open-loop HTTPS load generator with exact accounting: every request has its own uid, and each
// one ends as exactly one of: a correct answer, or a failure with its reason (non-2xx, wrong
// answer, connection error, timeout). Nothing is retried. Connections are keep-alive and verify
// the server against the test CA, as the apiserver's webhook client does; every `freshEvery`-th
// request goes on a new connection, so that connections keep being opened during a fault.
//
// Why not autocannon (which the benchmark uses): it connects with rejectUnauthorized: false, so
// it cannot trust only the test CA; and when a server ends a connection with a request still on
// it, autocannon reconnects without counting that request as failed (its queue entry is neither
// answered nor counted as an error) — the very failure this suite exists to catch.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:https';
import { TLSSocket } from 'node:tls';
import type { Verdict } from './review.js';

export interface LoadOptions {
  port: number;
  /** CA (PEM) that the server's certificate must chain to. */
  ca: string;
  /** Requests per second, started on schedule whether or not earlier ones have finished. */
  rate: number;
  durationMs: number;
  /** Keep-alive connections at most. */
  connections: number;
  /** Every n-th request opens a connection of its own (0: never). */
  freshEvery: number;
  /** A request without an answer after this long is a failure. */
  timeoutMs: number;
  body: (uid: string) => string;
  check: (body: string, uid: string) => Verdict;
}

export interface Answer {
  startedAt: number;
  endedAt: number;
  tag: string;
}

export interface FreshConnection {
  startedAt: number;
  /** When its response had arrived, so its handshake was over. */
  endedAt: number;
  fingerprint256: string;
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** Failures by reason. */
  failures: Record<string, number>;
  /** The first few failures in full. */
  examples: string[];
  answers: Answer[];
  fresh: FreshConnection[];
  /** Answers that closed their keep-alive connection (Connection: close), fresh ones left out. */
  closedByServer: number;
  latencyMs: { p50: number; p99: number; max: number };
  elapsedMs: number;
}

export interface Load {
  /** Resolves when the last request has ended, after `durationMs`. */
  done: Promise<LoadResult>;
  /** Requests ended so far. */
  progress(): { sent: number; ok: number; failed: number };
}

const TICK_MS = 5;

export function startLoad(options: LoadOptions): Load {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.connections,
    // Every connection carries requests in turn (the default, lifo, leaves most of them idle).
    scheduling: 'fifo',
    ca: options.ca,
  });
  const result: LoadResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    failures: {},
    examples: [],
    answers: [],
    fresh: [],
    closedByServer: 0,
    latencyMs: { p50: 0, p99: 0, max: 0 },
    elapsedMs: 0,
  };
  const latencies: number[] = [];
  const fail = (reason: string, detail: string): void => {
    result.failed += 1;
    result.failures[reason] = (result.failures[reason] ?? 0) + 1;
    if (result.examples.length < 10) result.examples.push(`${reason}: ${detail}`);
  };
  const pending = new Set<Promise<void>>();
  const started = Date.now();

  const send = (fresh: boolean): void => {
    const uid = randomUUID();
    const body = options.body(uid);
    result.sent += 1;
    const call = one(options, { uid, body, fresh, agent }).then((outcome) => {
      if (outcome.kind === 'failed') {
        fail(outcome.reason, `${uid} ${outcome.detail}`);
        return;
      }
      const verdict = options.check(outcome.body, uid);
      if (!verdict.ok) {
        fail(`wrong answer: ${verdict.reason}`, `${uid} ${outcome.body.slice(0, 300)}`);
        return;
      }
      result.ok += 1;
      latencies.push(outcome.endedAt - outcome.startedAt);
      result.answers.push({ startedAt: outcome.startedAt, endedAt: outcome.endedAt, tag: verdict.tag });
      if (outcome.closed && !fresh) result.closedByServer += 1;
      if (fresh) {
        result.fresh.push({
          startedAt: outcome.startedAt,
          endedAt: outcome.endedAt,
          fingerprint256: outcome.fingerprint256,
        });
      }
    });
    pending.add(call);
    void call.finally(() => pending.delete(call));
  };

  const done = new Promise<LoadResult>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Math.min(Date.now() - started, options.durationMs);
      // Catch up after a late tick: the schedule is the rate, not the timer.
      const due = Math.floor((elapsed * options.rate) / 1000);
      while (result.sent < due) {
        send(options.freshEvery > 0 && (result.sent + 1) % options.freshEvery === 0);
      }
      if (elapsed < options.durationMs) return;
      clearInterval(timer);
      void settle(pending).then(() => {
        agent.destroy();
        result.elapsedMs = Date.now() - started;
        result.latencyMs = percentiles(latencies);
        resolve(result);
      });
    }, TICK_MS);
  });
  return { done, progress: () => ({ sent: result.sent, ok: result.ok, failed: result.failed }) };
}

async function settle(pending: Set<Promise<void>>): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
}

type Outcome =
  | {
      kind: 'answered';
      body: string;
      startedAt: number;
      endedAt: number;
      closed: boolean;
      fingerprint256: string;
    }
  | { kind: 'failed'; reason: string; detail: string };

function one(
  options: LoadOptions,
  call: { uid: string; body: string; fresh: boolean; agent: Agent },
): Promise<Outcome> {
  return new Promise((resolve) => {
    const startedAt = Date.now();
    let finished = false;
    const finish = (outcome: Outcome): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port,
        method: 'POST',
        // As the apiserver calls it.
        path: '/mutate?timeout=10s',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, */*',
          'content-length': Buffer.byteLength(call.body),
        },
        ...(call.fresh ? { agent: false, ca: options.ca } : { agent: call.agent }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => {
          finish({ kind: 'failed', reason: `response ${errorCode(error)}`, detail: error.message });
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            finish({ kind: 'failed', reason: `HTTP ${String(status)}`, detail: body.slice(0, 300) });
            return;
          }
          const socket = res.socket;
          finish({
            kind: 'answered',
            body,
            startedAt,
            endedAt: Date.now(),
            closed: res.headers.connection === 'close',
            fingerprint256:
              call.fresh && socket instanceof TLSSocket ? socket.getPeerCertificate().fingerprint256 : '',
          });
        });
      },
    );
    const timer = setTimeout(() => {
      finish({ kind: 'failed', reason: 'timeout', detail: `no answer in ${String(options.timeoutMs)} ms` });
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (error) => {
      finish({ kind: 'failed', reason: `request ${errorCode(error)}`, detail: error.message });
    });
    req.end(call.body);
  });
}

function errorCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : error.message;
}

function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  if (values.length === 0) return { p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

/** One line per scenario for the report. */
export function summary(name: string, r: LoadResult): string {
  const rate = Math.round((r.sent * 1000) / Math.max(1, r.elapsedMs));
  return (
    `${name}: sent ${String(r.sent)} (~${String(rate)}/s over ${(r.elapsedMs / 1000).toFixed(1)} s), ` +
    `answered OK ${String(r.ok)}, failed ${String(r.failed)}` +
    (r.failed > 0 ? ` ${JSON.stringify(r.failures)}` : '') +
    `; fresh connections ${String(r.fresh.length)}, keep-alive connections closed by the server ${String(r.closedByServer)}; ` +
    `latency p50 ${String(r.latencyMs.p50)} ms, p99 ${String(r.latencyMs.p99)} ms, max ${String(r.latencyMs.max)} ms`
  );
}
