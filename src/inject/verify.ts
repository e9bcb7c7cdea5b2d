import { isArray, isObject, type JsonObject } from '../json.js';
import { CONTAINER_LISTS, nameOf, objectsAt } from './pod.js';

/**
 * The checks the apiserver would make on what sidekick changed, made before answering so that
 * a mistake is a clear refusal instead of a rejected patch.
 */
export function verifyPod(pod: JsonObject, sidecars: readonly string[]): string[] {
  const problems: string[] = [];
  const spec = isObject(pod.spec) ? pod.spec : {};
  const seen = new Set<string>();
  for (const list of CONTAINER_LISTS) {
    for (const container of objectsAt(spec, list)) {
      const name = nameOf(container) ?? '';
      if (seen.has(name)) problems.push(`container name ${name} is used twice`);
      seen.add(name);
    }
  }
  const volumes = new Set<string>();
  for (const volume of objectsAt(spec, 'volumes')) {
    const name = nameOf(volume) ?? '';
    if (volumes.has(name)) problems.push(`volume name ${name} is used twice`);
    volumes.add(name);
  }
  for (const list of CONTAINER_LISTS) {
    for (const container of objectsAt(spec, list)) {
      const mounts = isArray(container.volumeMounts) ? container.volumeMounts : [];
      for (const mount of mounts) {
        const name = nameOf(mount);
        if (name !== undefined && !volumes.has(name)) {
          problems.push(
            `container ${nameOf(container) ?? ''} mounts volume ${name}, which the Pod does not have`,
          );
        }
      }
    }
  }
  const init = objectsAt(spec, 'initContainers');
  let last = -1;
  for (const sidecar of sidecars) {
    const index = init.findIndex((c) => c.name === sidecar);
    const container = init[index];
    if (!container) problems.push(`sidecar ${sidecar} is missing from initContainers`);
    else if (container.restartPolicy !== 'Always')
      problems.push(`sidecar ${sidecar} lacks restartPolicy: Always`);
    else if (index < last) problems.push(`sidecar ${sidecar} is out of order`);
    last = Math.max(last, index);
  }
  return problems;
}
