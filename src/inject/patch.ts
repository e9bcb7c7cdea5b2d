import type { Operation } from 'fast-json-patch';
import { deepEqual, isArray, isObject, type Json } from '../json.js';
import { sharedText } from './shared.js';

function pointer(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}/${key}`;
  const escaped = key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key;
  return `${path}/${escaped}`;
}

/** Indexes at which `after` inserts items into `before`, or undefined if it is not only insertions. */
function insertions(before: readonly Json[], after: readonly Json[]): number[] | undefined {
  if (after.length <= before.length) return undefined;
  const added: number[] = [];
  let i = 0;
  for (let j = 0; j < after.length; j++) {
    if (i < before.length && deepEqual(before[i], after[j])) i++;
    else added.push(j);
  }
  return i === before.length ? added : undefined;
}

function diffArray(before: readonly Json[], after: readonly Json[], path: string, ops: Operation[]): void {
  const added = insertions(before, after);
  if (added) {
    for (const index of added) ops.push({ op: 'add', path: pointer(path, index), value: after[index] });
    return;
  }
  if (before.length === after.length) {
    before.forEach((item, i) => {
      const next = after[i] ?? null;
      if (item !== next) diff(item, next, pointer(path, i), ops);
    });
    return;
  }
  ops.push({ op: 'replace', path, value: after as Json[] });
}

/**
 * A small JSONPatch from `before` to `after`: insertions into arrays become `add` at explicit
 * indexes (not one op per shifted element), so the patch grows with the change, not the Pod.
 */
export function diff(before: Json, after: Json, path: string, ops: Operation[]): void {
  if (before === after) return;
  if (isArray(before) && isArray(after)) {
    diffArray(before, after, path, ops);
    return;
  }
  if (isObject(before) && isObject(after)) {
    for (const key of Object.keys(before)) {
      if (!Object.prototype.hasOwnProperty.call(after, key))
        ops.push({ op: 'remove', path: pointer(path, key) });
    }
    for (const [key, value] of Object.entries(after)) {
      if (!Object.prototype.hasOwnProperty.call(before, key))
        ops.push({ op: 'add', path: pointer(path, key), value });
      else if (before[key] !== value) diff(before[key] ?? null, value, pointer(path, key), ops);
    }
    return;
  }
  if (!deepEqual(before, after)) ops.push({ op: 'replace', path, value: after });
}

export function createPatch(before: Json, after: Json): Operation[] {
  const ops: Operation[] = [];
  diff(before, after, '', ops);
  return ops;
}

/** The patch as JSON, as JSON.stringify writes it, with shared renderings' text spliced in. */
export function patchText(ops: readonly Operation[]): string {
  const parts = ops.map((op) => {
    const text = op.op === 'add' || op.op === 'replace' ? sharedText(op.value) : undefined;
    if (text === undefined) return JSON.stringify(op);
    return `{"op":"${op.op}","path":${JSON.stringify(op.path)},"value":${text}}`;
  });
  return `[${parts.join(',')}]`;
}
