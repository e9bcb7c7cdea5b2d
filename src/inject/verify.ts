import { isArray, isObject, type JsonObject } from '../json.js';
import { CONTAINER_LISTS, nameOf, objectsAt } from './pod.js';

function duplicates(names: readonly string[], what: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const name of names) {
    if (seen.has(name)) out.push(`${what} name ${name} is used twice`);
    seen.add(name);
  }
  return out;
}

function danglingMounts(spec: JsonObject, volumes: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const container of CONTAINER_LISTS.flatMap((list) => objectsAt(spec, list))) {
    for (const mount of isArray(container.volumeMounts) ? container.volumeMounts : []) {
      const name = nameOf(mount);
      if (name !== undefined && !volumes.has(name)) {
        out.push(`container ${nameOf(container) ?? ''} mounts volume ${name}, which the Pod does not have`);
      }
    }
  }
  return out;
}

/** The apiserver refuses these on an init container that is not a native sidecar. */
const SIDECAR_ONLY = ['startupProbe', 'livenessProbe', 'readinessProbe', 'lifecycle'];

function runOnceProblem(sidecar: string, container: JsonObject): string | undefined {
  if (container.restartPolicy !== undefined)
    return `sidecar ${sidecar} runs once, but has restartPolicy ${JSON.stringify(container.restartPolicy)}`;
  const field = SIDECAR_ONLY.find((f) => container[f] !== undefined);
  return field === undefined
    ? undefined
    : `sidecar ${sidecar} runs once as a plain init container, which cannot have a ${field}`;
}

function sidecarProblems(
  spec: JsonObject,
  sidecars: readonly string[],
  runOnce: ReadonlySet<string>,
): string[] {
  const init = objectsAt(spec, 'initContainers');
  const out: string[] = [];
  let last = -1;
  for (const sidecar of sidecars) {
    const index = init.findIndex((c) => c.name === sidecar);
    const container = init[index];
    const once = container && runOnce.has(sidecar) ? runOnceProblem(sidecar, container) : undefined;
    if (!container) out.push(`sidecar ${sidecar} is missing from initContainers`);
    else if (once !== undefined) out.push(once);
    else if (!runOnce.has(sidecar) && container.restartPolicy !== 'Always')
      out.push(`sidecar ${sidecar} lacks restartPolicy: Always`);
    else if (index < last) out.push(`sidecar ${sidecar} is out of order`);
    last = Math.max(last, index);
  }
  return out;
}

/**
 * The checks the apiserver would make on what sidekick changed, made before answering so that
 * a mistake is a clear refusal instead of a rejected patch. `runOnce` are the sidecars that run
 * to completion as plain init containers.
 */
export function verifyPod(
  pod: JsonObject,
  sidecars: readonly string[],
  runOnce: ReadonlySet<string> = new Set(),
): string[] {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const containers = CONTAINER_LISTS.flatMap((list) => objectsAt(spec, list)).map((c) => nameOf(c) ?? '');
  const volumes = objectsAt(spec, 'volumes').map((v) => nameOf(v) ?? '');
  return [
    ...duplicates(containers, 'container'),
    ...duplicates(volumes, 'volume'),
    ...danglingMounts(spec, new Set(volumes)),
    ...sidecarProblems(spec, sidecars, runOnce),
  ];
}
