import { annotationKeys } from '../inject/annotations.js';
import { DEFAULT_PREFIX, SYSTEM_NAMESPACES } from '../inject/types.js';
import { injectWorkload } from '../inject/workload.js';
import { getPath, podTemplatePath } from '../inject/workloads.js';
import { deepEqual, isObject, nestedDeeperThan, type JsonObject } from '../json.js';
import {
  answer,
  handleAdmission,
  MAX_OBJECT_DEPTH,
  type AdmissionRecord,
  type HandledReview,
} from './handler.js';
import { allowed, denied } from './response.js';
import type { AdmissionRequest, ValidateDeps } from './types.js';
import { checkTemplatesConfigMap } from './templates-configmap.js';

/**
 * POST /validate: a workload's Pod template through the injection core as a dry run, answered
 * with its warnings and, when its Pods would be refused, a denial. It never patches: the Pod
 * webhook stays the point of enforcement. `optedIn` is false on the webhook entry whose
 * namespaceSelector matches the namespaces without the opt-in label: the server learns that
 * from which entry called it, with no API access of its own.
 */
export function handleValidation(body: unknown, deps: ValidateDeps, optedIn: boolean): HandledReview {
  return handleAdmission(body, (request, record) => validate(request, record, deps, optedIn));
}

function validate(
  request: AdmissionRequest,
  record: AdmissionRecord,
  deps: ValidateDeps,
  optedIn: boolean,
): HandledReview {
  const { uid } = request;
  const ignore = (message: string): HandledReview =>
    answer(allowed(uid), { ...record, decision: 'ignored', message });
  if ((request.operation !== 'CREATE' && request.operation !== 'UPDATE') || request.subResource !== '') {
    return ignore(`${request.operation} of ${request.kind.kind}: not checked`);
  }
  const object = request.object;
  if (!isObject(object)) {
    const message = 'request.object is not an object';
    return answer(denied(uid, 400, message), { ...record, decision: 'invalid', message });
  }
  if (nestedDeeperThan(object, MAX_OBJECT_DEPTH)) {
    const message = `request.object is nested deeper than ${MAX_OBJECT_DEPTH} levels`;
    return answer(denied(uid, 400, message), { ...record, decision: 'invalid', message });
  }
  const namespace = record.namespace;
  if (namespace === undefined) return ignore('not a namespaced object');
  if (request.kind.group === '' && request.kind.kind === 'ConfigMap') {
    return checkTemplatesConfigMap(request, record, object, deps);
  }
  if (request.kind.group === '' && request.kind.kind === 'Pod') return ignore('Pods are for /mutate');
  const withKind: JsonObject = {
    ...object,
    kind: request.kind.kind,
    metadata: { ...metadataOf(object), namespace },
  };
  if (!optedIn) return notOptedIn(request, record, withKind, namespace, deps);
  return validateWorkload(request, record, withKind, object, deps);
}

/** The dry run of the workload's Pod template, and what it means for the workload. */
function validateWorkload(
  request: AdmissionRequest,
  record: AdmissionRecord,
  withKind: JsonObject,
  object: JsonObject,
  deps: ValidateDeps,
): HandledReview {
  const { uid } = request;
  const namespace = record.namespace ?? '';
  const templates = deps.templates();
  if (!templates) {
    // An answer, not an error: with failurePolicy Ignore only a failed call lets the object through.
    const warning = 'sidekick has no valid sidecar templates loaded yet; this object was not checked';
    return answer(allowed(uid, [warning]), {
      ...record,
      decision: 'errored',
      message: warning,
      warnings: [warning],
    });
  }
  const { outcome } = injectWorkload(withKind, {
    templates,
    namespace,
    ...(deps.prefix !== undefined ? { prefix: deps.prefix } : {}),
    ...(deps.injectorNamespace !== undefined ? { injectorNamespace: deps.injectorNamespace } : {}),
  });
  const warned = { ...record, warnings: outcome.warnings };
  switch (outcome.decision) {
    case 'pass':
      return answer(allowed(uid), { ...warned, decision: 'ignored', message: outcome.reason });
    case 'skip':
      return answer(allowed(uid, outcome.warnings), {
        ...warned,
        decision: 'checked',
        message: outcome.reason,
      });
    case 'inject':
      return answer(allowed(uid, outcome.warnings), {
        ...warned,
        decision: 'checked',
        sidecars: outcome.sidecars,
      });
    case 'refuse': {
      const message = `${outcome.message} (its Pods would be refused)`;
      if (deps.workloads === 'deny' && templateChanged(request, object)) {
        return answer(denied(uid, 400, message, outcome.warnings), {
          ...warned,
          decision: 'denied',
          message,
        });
      }
      const why =
        deps.workloads === 'deny' ? 'its Pod template is unchanged by this update' : '--workloads=warn';
      const warnings = [...outcome.warnings, `${message}; allowed, as ${why}`];
      return answer(allowed(uid, warnings), { ...record, warnings, decision: 'checked', message });
    }
  }
}

function metadataOf(object: JsonObject): JsonObject {
  return isObject(object.metadata) ? object.metadata : {};
}

/**
 * An UPDATE that leaves the Pod template as it was (a label, the replica count) is let through
 * with a warning: denying it would block every edit of a workload after a template tightening.
 */
function templateChanged(request: AdmissionRequest, object: JsonObject): boolean {
  if (request.operation !== 'UPDATE' || !isObject(request.oldObject)) return true;
  const path = podTemplatePath(object);
  if (path === undefined) return true;
  return !deepEqual(getPath(object, path) ?? null, getPath(request.oldObject, path) ?? null);
}

/** The one warning for an object in a namespace without the opt-in label. */
function notOptedIn(
  request: AdmissionRequest,
  record: AdmissionRecord,
  object: JsonObject,
  namespace: string,
  deps: ValidateDeps,
): HandledReview {
  const prefix = deps.prefix ?? DEFAULT_PREFIX;
  const path = podTemplatePath(object);
  const template = path === undefined ? undefined : getPath(object, path);
  const annotations =
    template !== undefined && isObject(template.metadata) ? template.metadata.annotations : undefined;
  const key = annotationKeys(prefix).inject;
  const asked = isObject(annotations) && typeof annotations[key] === 'string' ? annotations[key].trim() : '';
  const name = `${request.kind.kind} ${namespace}/${record.name ?? '(unnamed)'}`;
  const excluded = SYSTEM_NAMESPACES.includes(namespace) || namespace === deps.injectorNamespace;
  const state = excluded
    ? `namespace ${namespace} is never injected`
    : `namespace ${namespace} is not opted in to sidecar injection (it lacks the label ${prefix}/injection=enabled)`;
  const warning =
    asked !== ''
      ? `${state}: the Pods of ${name} will be created without the sidecars ${key} asks for (${asked})`
      : `${state}: the keys under ${prefix}/ on ${name} have no effect there`;
  return answer(allowed(request.uid, [warning]), {
    ...record,
    decision: 'checked',
    message: 'namespace not opted in',
    warnings: [warning],
  });
}
