import { BoundedCache } from '../bounded-cache.js';
import { isArray, type Json, type JsonObject } from '../json.js';
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

/** Resolved values are shared too (resolved.ts) and never written once made: keyed once each. */
const KEYS = new WeakMap<Values, string>();

function valuesKey(values: Values): string {
  let key = KEYS.get(values);
  if (key === undefined) {
    key = JSON.stringify([...values]);
    KEYS.set(values, key);
  }
  return key;
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

/** Where a mount appended to a shared rendering's `volumeMounts` goes in its text: before, after. */
const MOUNT_SLOT = new WeakMap<object, [string, string]>();
const SLOT_MARKER = '\u0000sidekick-mount-slot\u0000';

function mountSlot(shared: JsonObject, mounts: readonly Json[]): [string, string] {
  let slot = MOUNT_SLOT.get(shared);
  if (slot === undefined) {
    const marker = JSON.stringify(SLOT_MARKER);
    const probe = JSON.stringify({ ...shared, volumeMounts: [...mounts, SLOT_MARKER] });
    const at = probe.indexOf(marker);
    slot = [probe.slice(0, at), probe.slice(at + marker.length)];
    MOUNT_SLOT.set(shared, slot);
  }
  return slot;
}

/**
 * `container` with `mount` appended to its `volumeMounts`. A shared rendering is not changed: the
 * answer is a frozen copy whose text is the shared text with the mount spliced in, so that a mount
 * that differs from Pod to Pod (the service-account token's volume name) costs one small
 * serialisation, not the container's.
 */
export function withMountAppended(container: JsonObject, mount: JsonObject): JsonObject {
  const mounts = isArray(container.volumeMounts) ? container.volumeMounts : [];
  if (!TEXT.has(container)) {
    container.volumeMounts = [...mounts, { ...mount }];
    return container;
  }
  const added = { ...mount };
  deepFreeze(added);
  const volumeMounts = [...mounts, added];
  Object.freeze(volumeMounts);
  const copy: JsonObject = { ...container, volumeMounts };
  // The rest of the copy is the shared rendering's, frozen already.
  Object.freeze(copy);
  const [before, after] = mountSlot(container, mounts);
  TEXT.set(copy, `${before}${JSON.stringify(mount)}${after}`);
  return copy;
}
