import { contains, isArray, isObject, type Json, type JsonObject } from '../json.js';
import { CONTAINER_LISTS, nameOf, objectsAt } from './pod.js';

function byName(list: Json | undefined): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const item of isArray(list) ? list : []) {
    const name = nameOf(item);
    if (name !== undefined) out.set(name, item);
  }
  return out;
}

function keepExisting(desired: Json[], existing: Map<string, Json>): Json[] {
  return desired.map((item) => {
    const name = nameOf(item);
    const have = name === undefined ? undefined : existing.get(name);
    return have !== undefined && contains(have, item) ? have : item;
  });
}

/**
 * Where the input already holds what sidekick would write, plus fields that defaulting or
 * another webhook added, keep the input's version: injecting an injected Pod changes nothing.
 */
export function reconcile(desired: JsonObject, input: JsonObject): void {
  const want = isObject(desired.spec) ? desired.spec : undefined;
  const have = isObject(input.spec) ? input.spec : undefined;
  if (!want || !have) return;
  if (isArray(want.initContainers))
    want.initContainers = keepExisting(want.initContainers, byName(have.initContainers));
  if (isArray(want.volumes)) want.volumes = keepExisting(want.volumes, byName(have.volumes));
  for (const list of CONTAINER_LISTS) {
    const existing = byName(have[list]);
    for (const container of objectsAt(want, list)) {
      const before = existing.get(nameOf(container) ?? '');
      if (!isObject(before) || !isArray(container.volumeMounts) || !isArray(before.volumeMounts)) continue;
      const mounts = before.volumeMounts;
      container.volumeMounts = container.volumeMounts.map(
        (m) =>
          mounts.find((b) => isObject(b) && isObject(m) && b.mountPath === m.mountPath && contains(b, m)) ??
          m,
      );
    }
  }
}
