import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';

/**
 * The apiserver refuses objects over 3 MiB; an UPDATE review carries object and oldObject, so a
 * genuine review stays under 2 × 3 MiB plus the envelope.
 */
export const DEFAULT_MAX_BODY_BYTES = 7 * 1024 * 1024;

/**
 * A body over the limit is still read, up to this many times the limit, and thrown away: a client
 * that is still sending when the connection closes gets a reset instead of the 413.
 */
const DRAIN_FACTOR = 4;

export type BodyRead = { ok: true; text: string } | { ok: false; status: 400 | 413 | 415; message: string };

const fail = (status: 400 | 413 | 415, message: string): BodyRead => ({ ok: false, status, message });

/**
 * Reads a JSON request body, checking in a fixed order: empty, content type, size, UTF-8.
 * Rejects only when the client goes away mid-body (there is no one left to answer).
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (declared === '0' || (declared === undefined && !chunked)) return fail(400, 'request body is empty');
  const typeProblem = contentTypeProblem(req.headers['content-type']);
  if (typeProblem) {
    discard(req, limit * DRAIN_FACTOR);
    return fail(415, typeProblem);
  }
  const tooLarge = fail(413, `request body is larger than the limit of ${limit} bytes`);
  if (declared !== undefined && Number(declared) > limit) {
    discard(req, limit * DRAIN_FACTOR);
    return tooLarge;
  }
  const body = await collect(req, limit);
  if (body === undefined) {
    discard(req, limit * DRAIN_FACTOR);
    return tooLarge;
  }
  if (body.length === 0) return fail(400, 'request body is empty');
  if (!isUtf8(body)) return fail(400, 'request body is not valid UTF-8');
  return { ok: true, text: body.toString('utf8') };
}

/** undefined when acceptable: application/json, with no charset or UTF-8. */
export function contentTypeProblem(header: string | undefined): string | undefined {
  // What the apiserver sends: no need to take it apart.
  if (header === 'application/json') return undefined;
  if (header === undefined || header.trim() === '')
    return 'content type is missing: expected application/json';
  const [type = '', ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  const shown = JSON.stringify(header.length > 64 ? `${header.slice(0, 61)}...` : header);
  if (type !== 'application/json') return `content type ${shown} is not supported: expected application/json`;
  for (const param of params) {
    const [key, value = ''] = param.split('=').map((s) => s.trim());
    if (key === 'charset' && value.replace(/"/g, '') !== 'utf-8') {
      return `content type ${shown} is not supported: expected application/json in UTF-8`;
    }
  }
  return undefined;
}

/** The body, or undefined once it passes the limit (the rest is left unread). */
function collect(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the client closed the connection before sending the whole body'));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onError);
  });
}

/** Reads and drops the rest of a refused body, closing the connection past `budget` bytes. */
function discard(req: IncomingMessage, budget: number): void {
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > budget) req.socket.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}
