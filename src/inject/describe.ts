import { isObject, type JsonObject } from '../json.js';

/** `Pod team-a/web`, or `Pod team-a/web-* (generateName)` before the apiserver names it. */
export function describeObject(kind: string, object: JsonObject, namespace: string): string {
  const meta = isObject(object.metadata) ? object.metadata : {};
  if (typeof meta.name === 'string' && meta.name !== '') return `${kind} ${namespace}/${meta.name}`;
  if (typeof meta.generateName === 'string' && meta.generateName !== '') {
    return `${kind} ${namespace}/${meta.generateName}* (generateName)`;
  }
  return `${kind} ${namespace}/(unnamed)`;
}
