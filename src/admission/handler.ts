import { injectPod, type InjectOptions, type InjectOutcome } from '../inject/index.js';
import { getOwn, isObject, nestedDeeperThan, type Json } from '../json.js';
import type { TemplateSet } from '../templates/types.js';
import { parseReview } from './parse.js';
import { allowed, denied, errored, patched, review } from './response.js';
import type { AdmissionRequest, AdmissionResponse, AdmissionReview } from './types.js';

/** Deeper than any real Pod (about 10 levels), shallow enough for recursive code further on. */
export const MAX_OBJECT_DEPTH = 64;

/** The key the apiserver prefixes with the webhook's name in the audit event. */
export const SIDECARS_AUDIT_KEY = 'sidecars';

export interface ReviewDeps {
  /** The last good template set, or undefined before one has loaded. */
  templates: () => TemplateSet | undefined;
  prefix?: string;
  injectorNamespace?: string;
  /** The injection core; replaceable so that a failing core can be simulated. */
  inject?: (pod: unknown, options: InjectOptions) => InjectOutcome;
}

export type AdmissionDecision =
  | 'injected'
  | 'unchanged'
  | 'skipped'
  | 'ignored'
  | 'refused'
  | 'invalid'
  | 'errored'
  /** /validate: the workload's Pods would be admitted (perhaps with warnings), or only warned about. */
  | 'checked'
  /** /validate: denied, as its Pods would be refused, or as the templates are invalid. */
  | 'denied';

/** What the server logs and counts for one admission; never the Pod itself. */
export interface AdmissionRecord {
  decision: AdmissionDecision;
  uid?: string;
  operation?: string;
  namespace?: string;
  /** metadata.name, or metadata.generateName when the apiserver has not named the Pod yet. */
  name?: string;
  dryRun: boolean;
  sidecars: string[];
  warnings: string[];
  /** The refusal, skip reason or error. */
  message?: string;
  patchOperations?: number;
  error?: unknown;
}

export type HandledReview =
  | { status: 200; review: AdmissionReview; record: AdmissionRecord }
  | { status: 400 | 500; message: string; record: AdmissionRecord };

/** Turns a parsed request body into the answer for /mutate. Never throws: failures are answers too. */
export function handleReview(body: unknown, deps: ReviewDeps): HandledReview {
  return handleAdmission(body, (request, record) => admit(request, record, deps));
}

/**
 * What every admission endpoint does around its own decision: parse the review, describe the
 * request for the log, and turn any failure into an answer.
 */
export function handleAdmission(
  body: unknown,
  decide: (request: AdmissionRequest, record: AdmissionRecord) => HandledReview,
): HandledReview {
  let record: AdmissionRecord = { decision: 'errored', dryRun: false, sidecars: [], warnings: [] };
  try {
    const parsed = parseReview(body);
    if (parsed.kind === 'unreadable') {
      return {
        status: 400,
        message: parsed.message,
        record: { ...record, decision: 'invalid', message: parsed.message },
      };
    }
    if (parsed.kind === 'malformed') {
      record = { ...record, uid: parsed.uid, decision: 'invalid', message: parsed.message };
      return answer(denied(parsed.uid, 400, parsed.message), record);
    }
    const request = parsed.request;
    record = describeRequest(request);
    return decide(request, record);
  } catch (error) {
    const message = `internal error: ${error instanceof Error ? error.message : String(error)}`;
    record = { ...record, decision: 'errored', message, error };
    if (record.uid === undefined) return { status: 500, message, record };
    return answer(errored(record.uid, 500, message), record);
  }
}

export function answer(response: AdmissionResponse, record: AdmissionRecord): HandledReview {
  return { status: 200, review: review(response), record };
}

function describeRequest(request: AdmissionRequest): AdmissionRecord {
  const metadata = isObject(request.object) ? getOwn(request.object, 'metadata') : undefined;
  const meta = isObject(metadata) ? metadata : {};
  const name = stringOf(getOwn(meta, 'name')) ?? request.name ?? stringOf(getOwn(meta, 'generateName'));
  const namespace = request.namespace ?? stringOf(getOwn(meta, 'namespace'));
  return {
    decision: 'errored',
    uid: request.uid,
    operation: request.operation,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    dryRun: request.dryRun,
    sidecars: [],
    warnings: [],
  };
}

function admit(request: AdmissionRequest, record: AdmissionRecord, deps: ReviewDeps): HandledReview {
  const { uid } = request;
  const isPod = request.kind.group === '' && request.kind.kind === 'Pod' && request.subResource === '';
  if (!isPod || request.operation !== 'CREATE') {
    const kind = `${request.kind.kind}${request.subResource ? `/${request.subResource}` : ''}`;
    const message = `${request.operation} of ${kind}: not injected`;
    return answer(allowed(uid), { ...record, decision: 'ignored', message });
  }
  const refuse = (message: string): HandledReview =>
    answer(denied(uid, 400, message), { ...record, decision: 'invalid', message });
  const pod = request.object;
  if (!isObject(pod) || (getOwn(pod, 'kind') ?? 'Pod') !== 'Pod')
    return refuse('request.object is not a Pod');
  if (nestedDeeperThan(pod, MAX_OBJECT_DEPTH)) {
    return refuse(`request.object is nested deeper than ${MAX_OBJECT_DEPTH} levels`);
  }
  if (record.namespace === undefined) return refuse('request.namespace is missing');
  const templates = deps.templates();
  if (!templates) {
    const message = 'no valid sidecar templates are loaded yet';
    return answer(errored(uid, 503, message), { ...record, decision: 'errored', message });
  }
  const outcome = (deps.inject ?? injectPod)(pod, {
    templates,
    namespace: record.namespace,
    checkedDepth: MAX_OBJECT_DEPTH,
    ...(deps.prefix !== undefined ? { prefix: deps.prefix } : {}),
    ...(deps.injectorNamespace !== undefined ? { injectorNamespace: deps.injectorNamespace } : {}),
  });
  return fromOutcome(uid, outcome, record);
}

function fromOutcome(uid: string, outcome: InjectOutcome, base: AdmissionRecord): HandledReview {
  const record = { ...base, warnings: outcome.warnings };
  switch (outcome.decision) {
    case 'skip':
      return answer(allowed(uid, outcome.warnings), {
        ...record,
        decision: 'skipped',
        message: outcome.reason,
      });
    case 'refuse':
      return answer(denied(uid, 400, outcome.message, outcome.warnings), {
        ...record,
        decision: 'refused',
        message: outcome.message,
      });
    case 'inject': {
      const changed = outcome.patch.length > 0;
      const audit: Record<string, string> = changed
        ? { [SIDECARS_AUDIT_KEY]: outcome.sidecars.join(',') }
        : {};
      return answer(patched(uid, outcome.patch, outcome.warnings, audit), {
        ...record,
        decision: changed ? 'injected' : 'unchanged',
        sidecars: outcome.sidecars,
        patchOperations: outcome.patch.length,
      });
    }
  }
}

function stringOf(value: Json | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
