import { isObject, type JsonObject } from '../json.js';

/** Keys under the prefix in a metadata map (annotations or labels). */
function keysUnder(meta: JsonObject, field: 'annotations' | 'labels', prefix: string): string[] {
  const map = meta[field];
  return isObject(map) ? Object.keys(map).filter((key) => key.startsWith(`${prefix}/`)) : [];
}

function metadataOf(object: JsonObject): JsonObject {
  return isObject(object.metadata) ? object.metadata : {};
}

function namespaceLabel(prefix: string, on: string, namespace: string): string {
  return `label ${prefix}/injection belongs on the Namespace (kubectl label namespace ${namespace} ${prefix}/injection=enabled), not on ${on}`;
}

/**
 * Keys on a workload's own metadata: the Pods it creates never carry them, so they would be
 * ignored without a word. Each warning says where the key belongs.
 */
export function workloadMetadataWarnings(
  object: JsonObject,
  kind: string,
  templatePath: readonly string[],
  prefix: string,
  namespace: string,
): string[] {
  const meta = metadataOf(object);
  const where = [...templatePath, 'metadata', 'annotations'].join('.');
  const out = keysUnder(meta, 'annotations', prefix).map(
    (key) =>
      `annotation ${key} is on the ${kind}'s own metadata, which sidekick does not read; move it to the Pod template's annotations (${where})`,
  );
  for (const key of keysUnder(meta, 'labels', prefix)) {
    out.push(
      key === `${prefix}/injection`
        ? namespaceLabel(prefix, `a ${kind}`, namespace)
        : `label ${key} is on the ${kind}'s own metadata, which sidekick does not read; make it an annotation of the Pod template (${where})`,
    );
  }
  return out;
}

/** Labels under the prefix on a Pod (or Pod template): sidekick reads only annotations there. */
export function podLabelWarnings(pod: JsonObject, prefix: string, namespace: string): string[] {
  return keysUnder(metadataOf(pod), 'labels', prefix).map((key) =>
    key === `${prefix}/injection`
      ? namespaceLabel(prefix, 'a Pod', namespace)
      : `label ${key} is a label, and sidekick reads only annotations: make it an annotation (metadata.annotations)`,
  );
}

/**
 * Parameters set for sidecars that are not injected: without an inject annotation at all, or
 * for a sidecar the annotation does not name (and nothing requires).
 */
export function unusedParameterWarnings(
  parameters: ReadonlyMap<string, ReadonlyMap<string, string>>,
  injected: ReadonlySet<string>,
  injectKey: string,
  injectValue: string | undefined,
  prefix: string,
): string[] {
  const out: string[] = [];
  for (const [sidecar, values] of parameters) {
    if (injected.has(sidecar)) continue;
    for (const param of values.keys()) {
      const key = `${prefix}/${sidecar}.${param}`;
      out.push(
        injectValue === undefined || injectValue.trim() === ''
          ? `annotation ${key} sets a parameter of ${sidecar}, but there is no ${injectKey} annotation, so nothing is injected; add ${injectKey}: ${sidecar}`
          : `annotation ${key} sets a parameter of ${sidecar}, which is not injected (${injectKey}: ${JSON.stringify(injectValue)}); add ${sidecar} to it or remove the parameter`,
      );
    }
  }
  return out;
}
