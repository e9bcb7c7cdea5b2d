import { isObject, type JsonObject } from '../json.js';

/** Where the built-in kinds keep their Pod template; a Pod is its own. */
const TEMPLATE_PATHS: Record<string, readonly string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Where other kinds (an Argo Rollout, a KServe or Knative CRD) keep one by convention. */
const CONVENTIONAL_PATHS: readonly (readonly string[])[] = [
  ['spec', 'template'],
  ['spec', 'jobTemplate', 'spec', 'template'],
];

function looksLikePodTemplate(value: JsonObject | undefined): boolean {
  return value !== undefined && (isObject(value.spec) || isObject(value.metadata));
}

/**
 * The path of the object's Pod template: fixed for the built-in kinds (undefined for a List or
 * a ConfigMap), and for any other kind wherever the conventional places hold one.
 */
export function podTemplatePath(object: JsonObject): readonly string[] | undefined {
  const kind = typeof object.kind === 'string' ? object.kind : '';
  if (Object.prototype.hasOwnProperty.call(TEMPLATE_PATHS, kind)) return TEMPLATE_PATHS[kind];
  return CONVENTIONAL_PATHS.find((path) => looksLikePodTemplate(getPath(object, path)));
}

/** Whether the kind is one whose Pod template sidekick knows the place of. */
export function isKnownWorkloadKind(kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(TEMPLATE_PATHS, kind);
}

export function getPath(object: JsonObject, path: readonly string[]): JsonObject | undefined {
  let current: JsonObject = object;
  for (const key of path) {
    const next = current[key];
    if (!isObject(next)) return undefined;
    current = next;
  }
  return current;
}

/** Replaces the object at `path` (which exists) with `value`, in a copy of the parents. */
export function withPath(object: JsonObject, path: readonly string[], value: JsonObject): JsonObject {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const child = object[head];
  return { ...object, [head]: isObject(child) ? withPath(child, rest, value) : value };
}
