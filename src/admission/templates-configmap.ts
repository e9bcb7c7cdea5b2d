import { isObject, type JsonObject } from '../json.js';
import { isTemplateFile } from '../templates/load.js';
import { mergeTemplateSources } from '../templates/merge.js';
import type { TemplateLoad, TemplateSource } from '../templates/types.js';
import { answer, type AdmissionRecord, type HandledReview } from './handler.js';
import { allowed, denied } from './response.js';
import { DEFAULT_TEMPLATES_CONFIGMAP, type AdmissionRequest, type ValidateDeps } from './types.js';

/**
 * The templates ConfigMap of sidekick's own namespace, checked as `sidekick templates validate`
 * checks a directory: a bad set is denied with every problem, so that it never reaches a replica
 * that restarts (which would then never become ready). Other ConfigMaps are let through.
 *
 * When the server loads two directories (`--extra-templates`), the ConfigMap is mounted as one of
 * them, which the server cannot tell: it is checked in place of each in turn, with the other
 * directory's files as the server last loaded them, and denied only when it is invalid in both
 * places (with the problems of the place closer to valid). A ConfigMap that would break the
 * server wherever it is mounted never reaches it; one that suits only the other place is left to
 * the reload, which keeps the last good set.
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
  const own: TemplateSource = { dir: described, files };
  const inUse = deps.templateSources?.() ?? [];
  const places = inUse.length > 1 ? inUse.map((_, i) => inUse.map((s, j) => (i === j ? own : s))) : [[own]];
  const loads = places.map((sources) => mergeTemplateSources(sources));
  const load = loads.find((l) => l.ok) ?? closest(loads);
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

function closest(loads: readonly TemplateLoad[]): TemplateLoad {
  const count = (l: TemplateLoad): number => (l.ok ? 0 : l.problems.length);
  return loads.reduce((best, l) => (count(l) < count(best) ? l : best));
}
