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

/** Assignment that keeps `__proto__` an own data key instead of changing the prototype. */
export function setOwn(object: JsonObject, key: string, value: Json): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(a[key], b[key]));
}

/**
 * Whether `whole` holds everything in `part`: the apiserver's defaulting and other webhooks may
 * add fields to what sidekick wrote, which is not damage.
 */
export function contains(whole: Json | undefined, part: Json | undefined): boolean {
  if (whole === part) return true;
  if (typeof part !== 'object' || part === null || typeof whole !== 'object' || whole === null) return false;
  if (Array.isArray(part)) {
    if (!Array.isArray(whole) || whole.length !== part.length) return false;
    return part.every((item, i) => contains(whole[i], item));
  }
  if (Array.isArray(whole)) return false;
  return Object.keys(part).every(
    (key) => Object.prototype.hasOwnProperty.call(whole, key) && contains(whole[key], part[key]),
  );
}

/**
 * Whether a value nests deeper than `limit` levels (the value itself is level 0). The recursion
 * stops at the limit, so it cannot overflow the stack it protects, and it allocates nothing: it
 * runs on every admission (bench/README.md).
 */
export function nestedDeeperThan(value: Json, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestedDeeperThan(item, limit - 1)) return true;
    return false;
  }
  for (const key in value) {
    if (Object.prototype.hasOwnProperty.call(value, key) && nestedDeeperThan(value[key] ?? null, limit - 1))
      return true;
  }
  return false;
}
