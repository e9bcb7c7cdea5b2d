/** Pods travel as raw JSON: typed models drop fields they do not know. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isArray(value: unknown): value is Json[] {
  return Array.isArray(value);
}

export function deepClone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** Own-property lookup, so that keys such as `__proto__` or `constructor` are plain data. */
export function getOwn(object: JsonObject, key: string): Json | undefined {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}
