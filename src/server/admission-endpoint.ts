import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import {
  serializeReview,
  type AdmissionRecord,
  type HandledReview,
  type ReviewDeps,
  type ValidateDeps,
} from '../admission/index.js';
import type { Logger } from '../log.js';
import { readJsonBody } from './body.js';
import { recordAdmission, type Metrics } from './metrics.js';
import { statusBody } from './status.js';

export interface MutateDeps {
  review: ReviewDeps;
  validate: ValidateDeps;
  maxBodyBytes: number;
  logger: Logger;
  metrics: Metrics;
  /** While shutting down every answer closes its connection, so that none is left to idle. */
  shuttingDown: () => boolean;
  /** With --client-ca: only callers with a certificate that chains to it may ask. */
  requireClientCertificate: boolean;
}

const invalid = (message: string): AdmissionRecord => ({
  decision: 'invalid',
  dryRun: false,
  sidecars: [],
  warnings: [],
  message,
});

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What an endpoint does with a parsed body: /mutate's or /validate's decision. */
export type ReviewHandler = (body: unknown) => HandledReview;

/**
 * POST /mutate and /validate. Every path ends in an answer: a review, a Status with a 4xx, or a
 * 500 Status. Plain node:http types, so that the server can call it without express's router
 * (see server.ts); it never throws, its work happens in a promise whose failures it answers.
 */
export function admissionEndpoint(deps: MutateDeps, handle: ReviewHandler): NodeHandler {
  return (req, res) => {
    const started = performance.now();
    admit(req, res, deps, handle, started).catch((error: unknown) => {
      deps.logger.error({ err: error }, 'admission handler failed');
      if (!res.headersSent)
        reply(res, deps, started, 500, statusBody(500, 'internal error'), invalid('internal'));
    });
  };
}

async function admit(
  req: IncomingMessage,
  res: ServerResponse,
  deps: MutateDeps,
  handle: ReviewHandler,
  started: number,
): Promise<void> {
  if (deps.requireClientCertificate && !(req.socket instanceof TLSSocket && req.socket.authorized)) {
    const message = 'a client certificate issued by the configured client CA is required';
    reply(res, deps, started, 401, statusBody(401, message), invalid(message));
    return;
  }
  let read;
  try {
    read = await readJsonBody(req, deps.maxBodyBytes);
  } catch (error) {
    deps.logger.debug({ err: error }, 'request body not received');
    return;
  }
  if (!read.ok) {
    reply(res, deps, started, read.status, statusBody(read.status, read.message), invalid(read.message));
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(read.text);
  } catch {
    const message = 'request body is not valid JSON';
    reply(res, deps, started, 400, statusBody(400, message), invalid(message));
    return;
  }
  const handled = handle(body);
  if (handled.status === 200) {
    reply(res, deps, started, 200, serializeReview(handled.review), handled.record);
  } else {
    reply(res, deps, started, handled.status, statusBody(handled.status, handled.message), handled.record);
  }
}

function reply(
  res: ServerResponse,
  deps: MutateDeps,
  started: number,
  status: number,
  body: string,
  record: AdmissionRecord,
): void {
  if (deps.shuttingDown()) res.setHeader('Connection', 'close');
  // The headers express's res.type('application/json').send() wrote, without its per-call work.
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
  const seconds = (performance.now() - started) / 1000;
  recordAdmission(
    deps.metrics,
    record.decision,
    seconds,
    record.decision === 'injected' && !record.dryRun ? record.sidecars : [],
  );
  log(deps.logger, status, record, seconds);
}

function log(logger: Logger, status: number, record: AdmissionRecord, seconds: number): void {
  const level = record.decision === 'errored' ? 'error' : record.decision === 'invalid' ? 'warn' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const { error, warnings, ...fields } = record;
  // The texts, not only their count: a warning is what someone has to act on.
  const line = {
    ...fields,
    status,
    warnings,
    durationMs: Math.round(seconds * 1e6) / 1e3,
    ...(error !== undefined ? { err: error } : {}),
  };
  logger[level](line, 'admission');
}
