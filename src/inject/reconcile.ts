import { contains, isArray, isObject, type Json, type JsonObject } from '../json.js';
import { nameOf, objectsAt } from './pod.js';
import { mountsTokenPath, SERVICE_ACCOUNT_MOUNT } from './service-account.js';

function byName(list: Json | undefined): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const item of isArray(list) ? list : []) {
    const name = nameOf(item);
    if (name !== undefined) out.set(name, item);
  }
  return out;
}

/**
 * The apiserver runs its own admission again after sidekick's patch, and the ServiceAccount step
 * then mounts the token into every container without a mount there. sidekick adds that mount
 * itself where it sees the Pod's token volume (service-account.ts); where it did not, the mount
 * the apiserver added is the apiserver's, not damage: compared without it, it stays.
 */
function comparable(have: Json, desired: Json): Json {
  if (!isObject(have) || !isArray(have.volumeMounts) || !isObject(desired) || mountsTokenPath(desired))
    return have;
  const mounts = have.volumeMounts.filter((m) => !(isObject(m) && m.mountPath === SERVICE_ACCOUNT_MOUNT));
  if (mounts.length === have.volumeMounts.length) return have;
  const copy: JsonObject = { ...have, volumeMounts: mounts };
  if (mounts.length === 0 && !isArray(desired.volumeMounts)) delete copy.volumeMounts;
  return copy;
}

function keepExisting(desired: Json[], existing: Map<string, Json>, ours: ReadonlySet<string>): Json[] {
  return desired.map((item) => {
    const name = nameOf(item);
    const have = name === undefined || !ours.has(name) ? undefined : existing.get(name);
    // Another webhook's restartPolicy would turn a run-once init container into a sidecar.
    const same = isObject(have) && isObject(item) && have.restartPolicy === item.restartPolicy;
    return have !== undefined && same && contains(comparable(have, item), item) ? have : item;
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
