import { BoundedCache } from '../bounded-cache.js';
import type { Json, JsonObject } from '../json.js';
import type { SidecarTemplate } from '../templates/types.js';
import type { Values } from './parameters.js';

/**
 * Rendered sidecars are a pure function of their template and parameter values, and the Pods of
 * one workload (a Deployment scaling up by thousands) ask for the same ones. A rendered sidecar is
 * therefore kept, deep-frozen, and handed to every Pod that asks for it again, with its JSON text:
 * the answer splices that text in instead of serialising the container again (bench/README.md).
 * Frozen, it cannot be changed by one admission under another's feet: a write throws.
 */
const TEXT = new WeakMap<object, string>();
const BY_TEMPLATE = new WeakMap<SidecarTemplate, BoundedCache<string, JsonObject>>();
/** Distinct parameter sets kept per template; past it, the template's entries start over. */
const MAX_PER_TEMPLATE = 256;

function deepFreeze(value: Json): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

function valuesKey(values: Values): string {
  return JSON.stringify([...values]);
}

/** The shared rendering of `template` with `values`, made by `render` the first time. */
export function sharedRendering(
  template: SidecarTemplate,
  values: Values,
  render: () => JsonObject,
): JsonObject {
  let cache = BY_TEMPLATE.get(template);
  if (cache === undefined) {
    cache = new BoundedCache(MAX_PER_TEMPLATE);
    BY_TEMPLATE.set(template, cache);
  }
  return cache.get(valuesKey(values), () => {
    const shared = render();
    deepFreeze(shared);
    TEXT.set(shared, JSON.stringify(shared));
    return shared;
  });
}

/** The JSON text of a shared rendering, or undefined for any other value. */
export function sharedText(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? TEXT.get(value) : undefined;
}
