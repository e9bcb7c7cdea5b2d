import { isArray, isObject, type Json, type JsonObject } from '../json.js';

function copyContainer(container: Json): Json {
  if (!isObject(container)) return container;
  const { volumeMounts } = container;
  return isArray(volumeMounts) ? { ...container, volumeMounts: [...volumeMounts] } : { ...container };
}

/**
 * A copy of exactly the parts of a Pod that injection changes (metadata and its annotations, spec,
 * the container lists with each container and its mounts, volumes); everything else is shared
 * with the input. Copying the whole Pod was a third of the cost on large Pods, and sharing also
 * lets the diff stop at shared parts. Spread keeps `__proto__` keys as plain own data.
 */
export function copyForInjection(pod: JsonObject): JsonObject {
  const metadata = isObject(pod.metadata) ? pod.metadata : {};
  const annotations = isObject(metadata.annotations) ? { ...metadata.annotations } : {};
  const spec = isObject(pod.spec) ? { ...pod.spec } : {};
  for (const list of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const items = spec[list];
    if (isArray(items)) spec[list] = items.map(copyContainer);
  }
  if (isArray(spec.volumes)) spec.volumes = [...spec.volumes];
  return { ...pod, metadata: { ...metadata, annotations }, spec };
}
