import { BoundedCache } from '../bounded-cache.js';
import type { SidecarTemplate } from '../templates/types.js';
import { resolveParameters, type Values } from './parameters.js';
import { checkResources } from './resources.js';
import type { PlannedParameter } from './types.js';

/** One sidecar's parameters as a Pod gave them: their values, what the plan reports, what is wrong. */
export interface Resolved {
  values: Values;
  planned: Readonly<Record<string, PlannedParameter>>;
  problems: readonly string[];
}

/**
 * Resolving is a pure function of the template, the prefix and the Pod's own annotation values,
 * and the Pods of one workload give the same few (most give none): it was a tenth of an admission
 * (bench/README.md, finding 11). The result is shared, so it is frozen; `values` is a Map, read
 * only by type (a Map cannot be frozen), and nothing in the pipeline writes to it.
 */
const BY_TEMPLATE = new WeakMap<SidecarTemplate, BoundedCache<string, Resolved>>();
const MAX_PER_TEMPLATE = 256;
/** Annotation values past this length are resolved every time rather than kept. */
const MAX_KEY_LENGTH = 16 * 1024;

function resolve(
  template: SidecarTemplate,
  given: ReadonlyMap<string, string> | undefined,
  prefix: string,
): Resolved {
  const problems: string[] = [];
  const { values, planned } = resolveParameters(template, given, prefix, problems);
  checkResources(template, given, values, prefix, problems);
  for (const p of Object.values(planned)) Object.freeze(p);
  return Object.freeze({ values, planned: Object.freeze(planned), problems: Object.freeze(problems) });
}

/** Length-prefixed, so that no value can read as another name or value. */
function keyOf(prefix: string, given: ReadonlyMap<string, string> | undefined): string {
  let key = prefix;
  if (given !== undefined) for (const [name, value] of given) key += `\u0000${name}=${value.length}:${value}`;
  return key;
}

export function resolvedParameters(
  template: SidecarTemplate,
  given: ReadonlyMap<string, string> | undefined,
  prefix: string,
): Resolved {
  const key = keyOf(prefix, given);
  if (key.length > MAX_KEY_LENGTH) return resolve(template, given, prefix);
  let cache = BY_TEMPLATE.get(template);
  if (cache === undefined) {
    cache = new BoundedCache(MAX_PER_TEMPLATE);
    BY_TEMPLATE.set(template, cache);
  }
  return cache.get(key, () => resolve(template, given, prefix));
}
