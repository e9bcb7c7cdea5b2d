import { isObject, type Json, type JsonObject } from '../json.js';
import { compareQuantities, quantityOf, readQuantity } from './quantity.js';
import type { Problems } from './schema.js';
import type { ParameterSpec, ResourceBounds, ResourceName } from './types.js';

export const RESOURCE_NAMES: readonly ResourceName[] = ['cpu', 'memory'];

export interface ResourceParameter {
  /** The parameter (and annotation suffix): `requests.cpu`. */
  name: string;
  kind: 'requests' | 'limits';
  resource: ResourceName;
}

/** The per-Pod resource parameters every template has: `sidekick.dev/<sidecar>.requests.cpu`, … */
export const RESOURCE_PARAMETERS: readonly ResourceParameter[] = (['requests', 'limits'] as const).flatMap(
  (kind) => RESOURCE_NAMES.map((resource) => ({ name: `${kind}.${resource}`, kind, resource })),
);

const RESOURCE_PARAMETER_NAMES = new Set(RESOURCE_PARAMETERS.map((p) => p.name));

export function isResourceParameter(name: string): boolean {
  return RESOURCE_PARAMETER_NAMES.has(name);
}

/** The template's own value of `resources.<kind>.<resource>`, as written. */
function templateValue(container: JsonObject, p: ResourceParameter): Json | undefined {
  const resources = container.resources;
  const kind = isObject(resources) ? resources[p.kind] : undefined;
  return isObject(kind) ? kind[p.resource] : undefined;
}

function parseBound(
  value: Json | undefined,
  field: string,
  problems: Problems,
): { minimum: string; maximum: string } | undefined {
  if (!isObject(value)) {
    problems.add(field, 'must be a map with minimum and maximum quantities');
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key !== 'minimum' && key !== 'maximum') problems.add(`${field}.${key}`, 'unknown field');
  }
  const lo = readQuantity(value.minimum);
  const hi = readQuantity(value.maximum);
  if ('error' in lo) problems.add(`${field}.minimum`, lo.error);
  if ('error' in hi) problems.add(`${field}.maximum`, hi.error);
  if ('error' in lo || 'error' in hi) return undefined;
  if (lo.quantity.nanos < 0n) problems.add(`${field}.minimum`, 'must not be negative');
  else if (compareQuantities(lo.quantity, hi.quantity) > 0)
    problems.add(`${field}.minimum`, `is larger than maximum (${lo.text} > ${hi.text})`);
  else return { minimum: lo.text, maximum: hi.text };
  return undefined;
}

/** `spec.resourceBounds`: `{ cpu: { minimum, maximum }, memory: { minimum, maximum } }`. */
export function parseResourceBounds(value: Json | undefined, problems: Problems): ResourceBounds {
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.add('spec.resourceBounds', `must be a map of ${RESOURCE_NAMES.join(', ')} to their bounds`);
    return {};
  }
  const bounds: ResourceBounds = {};
  for (const [key, bound] of Object.entries(value)) {
    const field = `spec.resourceBounds.${key}`;
    const resource = RESOURCE_NAMES.find((r) => r === key);
    if (resource === undefined) {
      problems.add(field, `unknown resource (${RESOURCE_NAMES.join(' or ')})`);
      continue;
    }
    const parsed = parseBound(bound, field, problems);
    if (parsed) bounds[resource] = parsed;
  }
  return bounds;
}

/** The template's own resources must be quantities inside its bounds, requests within limits. */
export function checkTemplateResources(
  container: JsonObject,
  bounds: ResourceBounds,
  problems: Problems,
): void {
  for (const p of RESOURCE_PARAMETERS) {
    const value = templateValue(container, p);
    if (value === undefined) continue;
    const field = `spec.container.resources.${p.name}`;
    const q = readQuantity(value);
    if ('error' in q) {
      problems.add(
        field,
        `${q.error}; resources are set per Pod with the ${p.name} annotation, not with parameters`,
      );
      continue;
    }
    const bound = bounds[p.resource];
    if (
      bound &&
      (compareQuantities(q.quantity, quantityOf(bound.minimum)) < 0 ||
        compareQuantities(q.quantity, quantityOf(bound.maximum)) > 0)
    ) {
      problems.add(
        field,
        `${q.text} is outside spec.resourceBounds.${p.resource} (${bound.minimum} to ${bound.maximum})`,
      );
    }
  }
  for (const resource of RESOURCE_NAMES) {
    const request = readQuantity(templateValue(container, { name: '', kind: 'requests', resource }));
    const limit = readQuantity(templateValue(container, { name: '', kind: 'limits', resource }));
    if ('error' in request || 'error' in limit) continue;
    if (compareQuantities(request.quantity, limit.quantity) > 0) {
      problems.add(
        `spec.container.resources.requests.${resource}`,
        `${request.text} is more than limits.${resource} ${limit.text}`,
      );
    }
  }
}

/** The four resource parameters, with the template's values as their defaults. */
export function resourceParameters(container: JsonObject, bounds: ResourceBounds): ParameterSpec[] {
  return RESOURCE_PARAMETERS.map((p) => {
    const bound = bounds[p.resource];
    const own = readQuantity(templateValue(container, p));
    const spec: ParameterSpec = {
      name: p.name,
      type: 'quantity',
      required: false,
      description: bound
        ? `the sidecar's ${p.resource} ${p.kind === 'requests' ? 'request' : 'limit'}, from ${bound.minimum} to ${bound.maximum}`
        : `the sidecar's ${p.resource} ${p.kind === 'requests' ? 'request' : 'limit'} (fixed: the template sets no resourceBounds.${p.resource})`,
      ...(bound ? { quantityMinimum: bound.minimum, quantityMaximum: bound.maximum } : {}),
    };
    if (!('error' in own)) spec.default = own.text;
    return spec;
  });
}
