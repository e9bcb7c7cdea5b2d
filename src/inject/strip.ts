import { isArray, isObject, type JsonObject } from '../json.js';
import { podVolumeName } from '../templates/names.js';
import { CONTAINER_LISTS, nameOf, objectAt, objectsAt } from './pod.js';

export interface Previous {
  /** The sidecars the status annotation says were injected, in their start order. */
  sidecars: string[];
  /** Why the status annotation could not be read, if it could not. */
  unreadable?: string;
}

export function readStatus(raw: string | undefined): Previous {
  if (raw === undefined) return { sidecars: [] };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (isObject(parsed) && isArray(parsed.sidecars) && parsed.sidecars.every((s) => typeof s === 'string')) {
      return { sidecars: parsed.sidecars.map(String) };
    }
  } catch {
    // falls through: an unreadable status is reported, not fatal
  }
  return { sidecars: [], unreadable: 'is not {"sidecars":[...],"templates":"..."}' };
}

/**
 * Removes what an earlier injection added (its sidecars, their volumes and the mounts of those
 * volumes), so that injecting again starts from the Pod as the user wrote it.
 */
export function stripInjection(pod: JsonObject, previous: readonly string[], statusKey: string): void {
  const annotations = objectAt(objectAt(pod, 'metadata'), 'annotations');
  Reflect.deleteProperty(annotations, statusKey);
  if (previous.length === 0) return;
  const spec = objectAt(pod, 'spec');
  const prefixes = previous.map((name) => podVolumeName(name, ''));
  const ours = (volume: string | undefined): boolean =>
    volume !== undefined && prefixes.some((p) => volume.startsWith(p));
  if (isArray(spec.initContainers)) {
    spec.initContainers = spec.initContainers.filter((c) => !previous.includes(nameOf(c) ?? ''));
  }
  if (isArray(spec.volumes)) spec.volumes = spec.volumes.filter((v) => !ours(nameOf(v)));
  for (const list of CONTAINER_LISTS) {
    for (const container of objectsAt(spec, list)) {
      if (isArray(container.volumeMounts)) {
        container.volumeMounts = container.volumeMounts.filter((m) => !ours(nameOf(m)));
      }
    }
  }
}
