import { isObject, type JsonObject } from '../json.js';

/** Where each kind keeps its Pod template; a Pod is its own. */
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

export function podTemplatePath(kind: string): readonly string[] | undefined {
  return Object.prototype.hasOwnProperty.call(TEMPLATE_PATHS, kind) ? TEMPLATE_PATHS[kind] : undefined;
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
