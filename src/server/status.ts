import type { Response } from 'express';

/** Kubernetes StatusReason for each HTTP code the server answers with. */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/**
 * A metav1.Status: the apiserver's webhook client decodes it from a non-2xx answer and shows its
 * message, so a failed call says why.
 */
export function statusBody(code: number, message: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASONS[code] ?? 'Unknown',
    code,
  });
}

export function sendStatus(res: Response, code: number, message: string): void {
  res.status(code).type('application/json').send(statusBody(code, message));
}
