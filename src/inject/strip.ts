import { isArray, isObject, type Json, type JsonObject } from '../json.js';
import type { SidecarTemplate } from '../templates/types.js';
import { podVolumeName } from '../templates/names.js';
import { nameOf, objectAt, objectsAt } from './pod.js';
import { restoreReplaced } from './replace-volumes.js';

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

/** The Pod volumes an earlier injection of these sidecars added, by their exact names. */
export function addedVolumes(previous: readonly SidecarTemplate[]): Set<string> {
  return new Set(
    previous.flatMap((t) =>
      t.volumes.map((v) => podVolumeName(t.name, typeof v.name === 'string' ? v.name : '')),
    ),
  );
}

/**
 * Removes what an earlier injection added (its sidecars, their volumes, and the mounts of those
 * volumes in app containers) and restores the volumes it replaced with emptyDirs (relay mode),
 * so that injecting again starts from the Pod as the user wrote it.
 * Only names that the templates give are touched: a status annotation naming anything else, a
 * volume of the Pod's own that happens to start with `sidekick-`, or an init container's own mount
 * of a sidecar's volume (a migration reading rendered secrets) is left as it is.
 */
export function stripInjection(
  pod: JsonObject,
  previous: readonly SidecarTemplate[],
  statusKey: string,
): void {
  const annotations = objectAt(objectAt(pod, 'metadata'), 'annotations');
  Reflect.deleteProperty(annotations, statusKey);
  if (previous.length === 0) return;
  const spec = objectAt(pod, 'spec');
  const sidecars = new Set(previous.map((t) => t.name));
  const volumes = addedVolumes(previous);
  const ours = (item: Json): boolean => volumes.has(nameOf(item) ?? '');
  // Before the sidecars go: a replaced volume whose kept original is lost is rebuilt from their args.
  restoreReplaced(spec, previous);
  if (isArray(spec.initContainers)) {
    spec.initContainers = spec.initContainers.filter((c) => !sidecars.has(nameOf(c) ?? ''));
  }
  if (isArray(spec.volumes)) spec.volumes = spec.volumes.filter((v) => !ours(v));
  for (const container of objectsAt(spec, 'containers')) {
    if (isArray(container.volumeMounts))
      container.volumeMounts = container.volumeMounts.filter((m) => !ours(m));
  }
}
