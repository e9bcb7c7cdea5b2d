import type { Operation } from 'fast-json-patch';
import { ADMISSION_API_VERSION, type AdmissionResponse, type AdmissionReview } from './types.js';

export function review(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

function withWarnings(response: AdmissionResponse, warnings: readonly string[]): AdmissionResponse {
  if (warnings.length > 0) response.warnings = [...warnings];
  return response;
}

/** Allowed unchanged. */
export function allowed(uid: string, warnings: readonly string[] = []): AdmissionResponse {
  return withWarnings({ uid, allowed: true }, warnings);
}

/** Refused: the apiserver shows `message` to whoever created the object. */
export function denied(
  uid: string,
  code: number,
  message: string,
  warnings: readonly string[] = [],
): AdmissionResponse {
  return withWarnings({ uid, allowed: false, status: { code, message } }, warnings);
}

/** The webhook could not decide: refused with a 5xx code that says what failed. */
export function errored(uid: string, code: number, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code, message } };
}

/** Allowed with a JSONPatch; an empty patch is no patch at all. */
export function patched(
  uid: string,
  patch: readonly Operation[],
  warnings: readonly string[] = [],
  auditAnnotations: Record<string, string> = {},
): AdmissionResponse {
  if (patch.length === 0) return allowed(uid, warnings);
  const response: AdmissionResponse = {
    uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
  };
  withWarnings(response, warnings);
  if (Object.keys(auditAnnotations).length > 0) response.auditAnnotations = auditAnnotations;
  return response;
}
