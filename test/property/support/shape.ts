import { isArray, isObject, type Json, type JsonObject } from '../../../src/json.js';

type Kind = 'object' | 'array' | 'scalar';

/**
 * What a template can render, as paths (array items all at `[]`) with the kinds of node each
 * may hold, the longest list at each path, and the trees that `$json` writes as strings.
 * A rendered container must fit it: parameter values fill string leaves, so they can never
 * add a key, an item, a level, or a key inside a `$json` document.
 */
export interface Shape {
  kinds: Map<string, Set<Kind>>;
  lengths: Map<string, number>;
  json: Map<string, Shape>;
  /** Lists that may grow beyond the template (podVolumeMounts and `$each` lengthen them). */
  open: Set<string>;
}

export function emptyShape(): Shape {
  return { kinds: new Map(), lengths: new Map(), json: new Map(), open: new Set() };
}

export function pathKey(path: readonly string[]): string {
  return JSON.stringify(path);
}

export function allow(shape: Shape, path: readonly string[], kind: Kind): void {
  const key = pathKey(path);
  const kinds = shape.kinds.get(key) ?? new Set<Kind>();
  kinds.add(kind);
  shape.kinds.set(key, kinds);
}

function conditional(item: Json): Json | undefined {
  if (!isObject(item) || !Object.prototype.hasOwnProperty.call(item, '$when')) return undefined;
  if (Object.prototype.hasOwnProperty.call(item, '$value')) return item.$value ?? null;
  const rest = { ...item };
  Reflect.deleteProperty(rest, '$when');
  return rest;
}

/** List items with a literal name (env variables, ports) are told apart by it. */
function itemSegment(item: Json): string | undefined {
  const name = isObject(item) ? item.name : undefined;
  return typeof name === 'string' && !name.includes('{{') ? `[name=${name}]` : undefined;
}

function addObject(shape: Shape, tree: JsonObject, path: string[], json: boolean): void {
  const keys = Object.keys(tree);
  if (keys.length === 1 && keys[0] === '$json') {
    allow(shape, path, 'scalar');
    if (!json) return;
    const inner = shape.json.get(pathKey(path)) ?? emptyShape();
    addTemplate(inner, tree.$json ?? null, []);
    shape.json.set(pathKey(path), inner);
    return;
  }
  allow(shape, path, 'object');
  for (const key of keys) {
    if (key === '$when') continue;
    const value = tree[key] ?? null;
    addTemplate(shape, conditional(value) ?? value, [...path, key], json);
  }
}

/**
 * Adds a template tree (with `$when`, `$value` and `$json` still in it) at `path`. Named items
 * go in twice: under their name, with their `$json` documents, and under `[]` as any item.
 */
export function addTemplate(shape: Shape, tree: Json, path: string[], json = true): void {
  if (isArray(tree)) {
    allow(shape, path, 'array');
    const key = pathKey(path);
    shape.lengths.set(key, Math.max(shape.lengths.get(key) ?? 0, tree.length));
    for (const entry of tree) {
      // `$each` repeats its tree once per item of a list value: the list is open, the tree fixed.
      if (isObject(entry) && Object.prototype.hasOwnProperty.call(entry, '$each')) {
        shape.open.add(key);
        const body = entry.$value ?? null;
        addTemplate(shape, isArray(body) ? body : [body], path, json);
        continue;
      }
      const item = conditional(entry) ?? entry;
      const named = itemSegment(item);
      if (named !== undefined) addTemplate(shape, item, [...path, named], json);
      addTemplate(shape, item, [...path, '[]'], json && named === undefined);
    }
  } else if (isObject(tree)) {
    addObject(shape, tree, path, json);
  } else {
    allow(shape, path, 'scalar');
  }
}

function kindOf(value: Json): Kind {
  return isArray(value) ? 'array' : isObject(value) ? 'object' : 'scalar';
}

function jsonProblems(path: readonly string[], value: Json, inner: Shape): string[] {
  if (typeof value !== 'string') return [`${path.join('.')} should be a JSON string`];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [`${path.join('.')} is not valid JSON`];
  }
  return fits(inner, parsed as Json, []).map((p) => `${path.join('.')} (inside the JSON) ${p}`);
}

/** Where `value` does not fit `shape`: keys, items or levels the template cannot produce. */
export function fits(shape: Shape, value: Json, path: string[]): string[] {
  const key = pathKey(path);
  const kinds = shape.kinds.get(key);
  const where = path.length === 0 ? '(root)' : path.join('.');
  if (!kinds) return [`has ${where}, which the template does not declare`];
  const kind = kindOf(value);
  if (!kinds.has(kind)) return [`has ${where} as ${kind}, where the template has ${[...kinds].join('/')}`];
  const inner = shape.json.get(key);
  if (inner && kind === 'scalar') return jsonProblems(path, value, inner);
  if (isArray(value)) {
    const most = shape.lengths.get(key) ?? 0;
    const problems =
      !shape.open.has(key) && value.length > most
        ? [`has ${value.length} items at ${where}, the template at most ${most}`]
        : [];
    const segment = (item: Json): string => {
      const named = itemSegment(item);
      return named !== undefined && shape.kinds.has(pathKey([...path, named])) ? named : '[]';
    };
    return [...problems, ...value.flatMap((item) => fits(shape, item, [...path, segment(item)]))];
  }
  if (isObject(value)) return Object.keys(value).flatMap((k) => fits(shape, value[k] ?? null, [...path, k]));
  return [];
}

/** Every key at every depth, for reporting which annotation value became a key. */
export function keysOf(value: Json, out = new Set<string>()): Set<string> {
  if (isArray(value)) for (const item of value) keysOf(item, out);
  else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      out.add(key);
      keysOf(value[key] ?? null, out);
    }
  }
  return out;
}
