import { isArray, isObject, type Json, type JsonObject } from '../json.js';

/** Typed views over a raw Pod (or Pod template) that is already known to be an object. */
export function objectAt(parent: JsonObject, key: string): JsonObject {
  const value = parent[key];
  if (isObject(value)) return value;
  const created: JsonObject = {};
  parent[key] = created;
  return created;
}

export function listAt(parent: JsonObject, key: string): Json[] {
  const value = parent[key];
  return isArray(value) ? value : [];
}

export function objectsAt(parent: JsonObject, key: string): JsonObject[] {
  return listAt(parent, key).filter(isObject);
}

export function nameOf(item: Json): string | undefined {
  return isObject(item) && typeof item.name === 'string' ? item.name : undefined;
}

export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
