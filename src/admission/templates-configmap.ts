import { isObject, type JsonObject } from '../json.js';
import { isTemplateFile, parseTemplateFiles } from '../templates/load.js';
import { answer, type AdmissionRecord, type HandledReview } from './handler.js';
import { allowed, denied } from './response.js';
import { DEFAULT_TEMPLATES_CONFIGMAP, type AdmissionRequest, type ValidateDeps } from './types.js';

/**
 * The templates ConfigMap of sidekick's own namespace, checked as `sidekick templates validate`
 * checks a directory: a bad set is denied with every problem, so that it never reaches a replica
 * that restarts (which would then never become ready). Other ConfigMaps are let through.
 */
export function checkTemplatesConfigMap(
  request: AdmissionRequest,
  record: AdmissionRecord,
  object: JsonObject,
  deps: ValidateDeps,
): HandledReview {
  const name = deps.templatesConfigMap ?? DEFAULT_TEMPLATES_CONFIGMAP;
  const { uid } = request;
  if (
    deps.injectorNamespace === undefined ||
    record.namespace !== deps.injectorNamespace ||
    record.name !== name
  ) {
    return answer(allowed(uid), { ...record, decision: 'ignored', message: 'not the templates ConfigMap' });
  }
  const data = isObject(object.data) ? object.data : {};
  const files = Object.entries(data)
    .filter(([key]) => isTemplateFile(key))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, text]) => ({ path: `data[${key}]`, text: typeof text === 'string' ? text : '' }));
  const described = `ConfigMap ${record.namespace}/${name}`;
  const load = parseTemplateFiles(files, described);
  if (!load.ok) {
    const message = `${described}: the sidecar templates are invalid (${load.problems.length} problem${load.problems.length === 1 ? '' : 's'}): ${load.problems.join('; ')}`;
    return answer(denied(uid, 400, message), { ...record, decision: 'denied', message });
  }
  const warnings = [...load.set.warnings];
  return answer(allowed(uid, warnings), {
    ...record,
    decision: 'checked',
    message: `${load.set.templates.size} valid templates`,
    warnings,
  });
}
