import { contains, isArray, isObject, type Json, type JsonObject } from '../json.js';
import { nameOf, objectsAt } from './pod.js';

function byName(list: Json | undefined): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const item of isArray(list) ? list : []) {
    const name = nameOf(item);
    if (name !== undefined) out.set(name, item);
  }
  return out;
}

function keepExisting(desired: Json[], existing: Map<string, Json>, ours: ReadonlySet<string>): Json[] {
  return desired.map((item) => {
    const name = nameOf(item);
    const have = name === undefined || !ours.has(name) ? undefined : existing.get(name);
    return have !== undefined && contains(have, item) ? have : item;
  });
}

/**
 * Where the input already holds what sidekick would write, plus fields that defaulting or
 * another webhook added, keep the input's version: injecting an injected Pod changes nothing.
 * Only what sidekick adds is looked at: its sidecars, its volumes and their mounts in app containers.
 */
export function reconcile(
  desired: JsonObject,
  input: JsonObject,
  sidecars: ReadonlySet<string>,
  volumes: ReadonlySet<string>,
): void {
  const want = isObject(desired.spec) ? desired.spec : undefined;
  const have = isObject(input.spec) ? input.spec : undefined;
  if (!want || !have) return;
  if (isArray(want.initContainers)) {
    want.initContainers = keepExisting(want.initContainers, byName(have.initContainers), sidecars);
  }
  if (isArray(want.volumes)) want.volumes = keepExisting(want.volumes, byName(have.volumes), volumes);
  const existing = byName(have.containers);
  for (const container of objectsAt(want, 'containers')) {
    const before = existing.get(nameOf(container) ?? '');
    if (!isObject(before) || !isArray(container.volumeMounts) || !isArray(before.volumeMounts)) continue;
    const mounts = before.volumeMounts;
    container.volumeMounts = container.volumeMounts.map((m) => {
      if (!isObject(m) || !volumes.has(nameOf(m) ?? '')) return m;
      return (
        mounts.find(
          (b) => isObject(b) && b.name === m.name && b.mountPath === m.mountPath && contains(b, m),
        ) ?? m
      );
    });
  }
}
