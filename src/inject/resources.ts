import type { JsonObject } from '../json.js';
import { compareQuantities, quantityOf } from '../templates/quantity.js';
import { RESOURCE_NAMES, RESOURCE_PARAMETERS } from '../templates/resource-bounds.js';
import type { SidecarTemplate } from '../templates/types.js';
import type { Values } from './parameters.js';
import { objectAt } from './pod.js';

const NANO = 10n ** 9n;

/**
 * Per-Pod resources (`<prefix>/<sidecar>.requests.cpu`, …): only within the bounds the
 * template declares (the parameter check did those), requests never above limits, memory in
 * whole bytes. A template without bounds for a resource keeps it fixed.
 */
export function checkResources(
  template: SidecarTemplate,
  given: ReadonlyMap<string, string> | undefined,
  values: Values,
  prefix: string,
  problems: string[],
): void {
  const key = (name: string): string => `${prefix}/${template.name}.${name}`;
  for (const p of RESOURCE_PARAMETERS) {
    const raw = given?.get(p.name);
    if (raw === undefined || raw.trim() === '') continue;
    if (template.resourceBounds[p.resource] === undefined) {
      problems.push(
        `annotation ${key(p.name)}: ${template.name}'s template sets no resourceBounds.${p.resource}, so its ${p.resource} cannot be set per Pod`,
      );
      continue;
    }
    const value = values.get(p.name);
    if (p.resource === 'memory' && typeof value === 'string' && quantityOf(value).nanos % NANO !== 0n) {
      problems.push(
        `annotation ${key(p.name)}: value ${JSON.stringify(raw)} is not a whole number of bytes (m is milli; Mi is mebibytes)`,
      );
    }
  }
  checkRequestsWithinLimits(given, values, key, problems);
}

function checkRequestsWithinLimits(
  given: ReadonlyMap<string, string> | undefined,
  values: Values,
  key: (name: string) => string,
  problems: string[],
): void {
  for (const resource of RESOURCE_NAMES) {
    const request = values.get(`requests.${resource}`);
    const limit = values.get(`limits.${resource}`);
    if (typeof request !== 'string' || typeof limit !== 'string') continue;
    if (compareQuantities(quantityOf(request), quantityOf(limit)) <= 0) continue;
    const [req, lim] = [key(`requests.${resource}`), key(`limits.${resource}`)];
    const fix = !given?.has(`limits.${resource}`)
      ? `raise ${lim} too (the template's limit is ${limit})`
      : !given.has(`requests.${resource}`)
        ? `lower ${req} too (the template's request is ${request})`
        : 'lower the request or raise the limit';
    problems.push(
      `annotations ${req} and ${lim}: the ${resource} request ${request} is more than the limit ${limit}; ${fix}`,
    );
  }
}

/** The resource values (the template's own unless a Pod set them) written into the container. */
export function applyResources(container: JsonObject, values: Values): void {
  for (const p of RESOURCE_PARAMETERS) {
    const value = values.get(p.name);
    if (typeof value !== 'string') continue;
    objectAt(objectAt(container, 'resources'), p.kind)[p.resource] = value;
  }
}
