import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { isArray, isObject, type Json, type JsonObject } from '../../../src/json.js';

/** Read-only views of raw Pods for the checks; nothing here trusts the shape of its input. */
export function field(value: Json | undefined, key: string): Json | undefined {
  return isObject(value) && Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;
}

export function listAt(value: Json | undefined, key: string): Json[] {
  const list = field(value, key);
  return isArray(list) ? list : [];
}

export function specOf(pod: Json): Json | undefined {
  return field(pod, 'spec');
}

export function annotationsOf(pod: Json): JsonObject {
  const annotations = field(field(pod, 'metadata'), 'annotations');
  return isObject(annotations) ? annotations : {};
}

export function nameOf(item: Json): string | undefined {
  const name = field(item, 'name');
  return typeof name === 'string' ? name : undefined;
}

export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

export function allContainers(pod: Json): Json[] {
  const spec = specOf(pod);
  return CONTAINER_LISTS.flatMap((list) => listAt(spec, list));
}

export function withoutMounts(container: Json): Json {
  if (!isObject(container)) return container;
  const rest = { ...container };
  Reflect.deleteProperty(rest, 'volumeMounts');
  return rest;
}

export function mountsOf(container: Json): Json[] {
  return listAt(container, 'volumeMounts');
}

/** The sidecar names of a status annotation, or [] when it cannot be read. */
export function statusSidecars(raw: Json | undefined): string[] {
  if (typeof raw !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    const sidecars: unknown = isObject(parsed) ? parsed.sidecars : undefined;
    return Array.isArray(sidecars) && sidecars.every((s) => typeof s === 'string') ? sidecars : [];
  } catch {
    return [];
  }
}

/** The names in an inject annotation, as the contract reads them. */
export function requestedSidecars(raw: Json | undefined): string[] {
  if (typeof raw !== 'string') return [];
  return [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}

/** JSON Pointer escaping of one reference token (RFC 6901). */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Equality for the checks that also holds up on inputs nested thousands of levels deep, where
 * a recursive comparison would overflow the stack: the JSON texts first, key order aside second.
 */
export function assertSame(actual: Json | undefined, expected: Json | undefined, message: string): void {
  if (JSON.stringify(actual) === JSON.stringify(expected)) return;
  let equal = false;
  try {
    equal = isDeepStrictEqual(actual, expected);
  } catch {
    throw new assert.AssertionError({ message: `${message} (too deep to show the difference)` });
  }
  if (!equal) assert.deepEqual(actual, expected, message);
}
