import { isObject, type JsonObject } from '../json.js';
import type { TemplateSet } from '../templates/types.js';
import { closest } from './did-you-mean.js';

export interface PodAnnotations {
  /** Sidecar names from the inject annotation, in order, without duplicates. */
  requested: string[];
  /** `<sidecar>.<param>` -> raw value, for keys under the prefix. */
  parameters: Map<string, Map<string, string>>;
  /** The raw inject annotation, if any. */
  inject: string | undefined;
  /** The raw status annotation, if any. */
  status: string | undefined;
  problems: string[];
  warnings: string[];
}

export function annotationKeys(prefix: string): { inject: string; status: string } {
  return { inject: `${prefix}/inject`, status: `${prefix}/status` };
}

/** Reads the annotations under the prefix; says which keys it does not know. */
export function readAnnotations(pod: JsonObject, prefix: string, templates: TemplateSet): PodAnnotations {
  const keys = annotationKeys(prefix);
  const out: PodAnnotations = {
    requested: [],
    parameters: new Map(),
    inject: undefined,
    status: undefined,
    problems: [],
    warnings: [],
  };
  const meta = isObject(pod.metadata) ? pod.metadata : {};
  const annotations = isObject(meta.annotations) ? meta.annotations : {};
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(`${prefix}/`)) continue;
    if (typeof value !== 'string') {
      out.problems.push(`annotation ${key}: the value must be a string`);
      continue;
    }
    const local = key.slice(prefix.length + 1);
    if (key === keys.inject) {
      out.inject = value;
      const names = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      out.requested = [...new Set(names)];
      for (const name of out.requested.filter((n) => names.indexOf(n) !== names.lastIndexOf(n))) {
        out.warnings.push(`annotation ${key} names ${name} more than once; it is injected once`);
      }
    } else if (key === keys.status) {
      out.status = value;
    } else {
      const dot = local.indexOf('.');
      const sidecar = dot > 0 ? local.slice(0, dot) : '';
      const param = dot > 0 ? local.slice(dot + 1) : '';
      const template = templates.templates.get(sidecar);
      if (template?.parameters.some((p) => p.name === param)) {
        const params = out.parameters.get(sidecar) ?? new Map<string, string>();
        params.set(param, value);
        out.parameters.set(sidecar, params);
      } else {
        const known = [...templates.templates.values()].flatMap((t) =>
          t.parameters.map((p) => `${t.name}.${p.name}`),
        );
        const match = closest(local, [...known, 'inject', 'status']);
        const suggestion = match === undefined ? '' : ` (did you mean ${prefix}/${match}?)`;
        out.warnings.push(`annotation ${key} is not a sidekick annotation${suggestion}`);
      }
    }
  }
  return out;
}
