import { getOwn, isObject, type Json, type JsonObject } from '../json.js';
import { ADMISSION_API_VERSION, type AdmissionRequest } from './types.js';

/**
 * What a parsed body turned out to be. Without a uid there is nothing an AdmissionReview answer
 * could refer to, so those problems go back as plain HTTP 400s; with one, as a denial.
 */
export type ParsedReview =
  | { kind: 'request'; request: AdmissionRequest }
  | { kind: 'malformed'; uid: string; message: string }
  | { kind: 'unreadable'; message: string };

/** A short, printable rendering of a value from the request for messages. */
export function describe(value: Json | undefined): string {
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 66 ? `${text.slice(0, 63)}..."` : text;
}

export function parseReview(body: unknown): ParsedReview {
  if (!isObject(body)) {
    return { kind: 'unreadable', message: 'request body is not an AdmissionReview: expected a JSON object' };
  }
  const kind = getOwn(body, 'kind');
  if (kind !== 'AdmissionReview') {
    return {
      kind: 'unreadable',
      message: `request body is not an AdmissionReview: kind is ${describe(kind)}`,
    };
  }
  const apiVersion = getOwn(body, 'apiVersion');
  if (apiVersion !== ADMISSION_API_VERSION) {
    return {
      kind: 'unreadable',
      message: `AdmissionReview apiVersion ${describe(apiVersion)} is not supported: expected ${ADMISSION_API_VERSION}`,
    };
  }
  const request = getOwn(body, 'request');
  if (!isObject(request)) return { kind: 'unreadable', message: 'AdmissionReview has no request' };
  const uid = getOwn(request, 'uid');
  if (typeof uid !== 'string' || uid === '') {
    return { kind: 'unreadable', message: 'AdmissionReview request has no uid' };
  }
  return readRequest(uid, request);
}

function readRequest(uid: string, request: JsonObject): ParsedReview {
  const malformed = (message: string): ParsedReview => ({ kind: 'malformed', uid, message });
  const kind = readKind(getOwn(request, 'kind'));
  if (!kind) return malformed('request.kind must be an object with string group, version and kind');
  const operation = getOwn(request, 'operation');
  if (typeof operation !== 'string')
    return malformed(`request.operation must be a string, got ${describe(operation)}`);
  const namespace = optionalString(getOwn(request, 'namespace'));
  if (namespace === false) return malformed('request.namespace must be a string');
  const name = optionalString(getOwn(request, 'name'));
  if (name === false) return malformed('request.name must be a string');
  const subResource = optionalString(getOwn(request, 'subResource'));
  if (subResource === false) return malformed('request.subResource must be a string');
  const dryRun = getOwn(request, 'dryRun');
  if (dryRun !== undefined && dryRun !== null && typeof dryRun !== 'boolean') {
    return malformed(`request.dryRun must be a boolean, got ${describe(dryRun)}`);
  }
  return {
    kind: 'request',
    request: {
      uid,
      kind,
      operation,
      namespace,
      name,
      subResource: subResource ?? '',
      dryRun: dryRun === true,
      object: getOwn(request, 'object'),
      oldObject: getOwn(request, 'oldObject'),
    },
  };
}

function readKind(value: Json | undefined): AdmissionRequest['kind'] | undefined {
  if (!isObject(value)) return undefined;
  const group = getOwn(value, 'group') ?? '';
  const version = getOwn(value, 'version');
  const kind = getOwn(value, 'kind');
  if (typeof group !== 'string' || typeof version !== 'string' || typeof kind !== 'string') return undefined;
  return { group, version, kind };
}

/** undefined when absent (or null, as Go encoders write for empty optional fields), false when not a string. */
function optionalString(value: Json | undefined): string | undefined | false {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : false;
}
