import { isArray, isObject, setOwn, type Json, type JsonObject } from '../json.js';
import { parseCondition, type Condition } from '../templates/condition.js';
import { ITEM_PARTS, PLACEHOLDER } from '../templates/names.js';
import { formatValue, isSet } from '../templates/parameter-value.js';
import type { ParameterValue } from '../templates/types.js';
import { numbersKey, type Values } from './parameters.js';

const WHOLE = new RegExp(`^${PLACEHOLDER.source}$`);
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };
const HOST_PORT = /^([^/:[\]]+|\[[0-9A-Fa-f:.]+\]):[0-9]+$/;

/**
 * kubelet expands `$(VAR)` in command, args and env values; a value placed there is written
 * with `$$` so that it stays the text it was and cannot read the container's variables.
 */
type Mode = 'plain' | 'kubelet';
const KUBELET_EXPANDED = new Set(['command', 'args', 'env']);

/**
 * A template tree compiled into closures: the tree is read (its strings split at placeholders,
 * its conditions parsed) once per template set instead of on every admission, which was most of
 * the rendering cost (bench/README.md). `undefined` is a conditional item left out.
 */
type Renderer = (values: Values) => Json | undefined;

function urlPart(value: ParameterValue | undefined, part: string): string {
  // host:port without a scheme is read as https:// (TLS), as gRPC clients read it.
  const text = typeof value === 'string' && HOST_PORT.test(value) ? `https://${value}` : value;
  if (typeof text !== 'string' || !URL.canParse(text)) return '';
  const url = new URL(text);
  const scheme = url.protocol.replace(/:$/, '');
  switch (part) {
    case 'scheme':
      return scheme;
    case 'hostname':
      return url.hostname;
    case 'port':
      return url.port || (DEFAULT_PORTS[scheme] ?? '');
    default:
      return url.pathname === '/' && url.search === '' && !text.endsWith('/')
        ? ''
        : url.pathname + url.search;
  }
}

function lookup(values: Values, name: string, part: string | undefined): ParameterValue | undefined {
  if (part === undefined) return values.get(name);
  if (ITEM_PARTS.includes(part)) return values.get(`${name}.${part}`);
  return urlPart(values.get(name), part);
}

/**
 * The values inside `$each: name` for one item: the list parameter is that item, and its parts
 * are under `name.key`, `name.value`, `name.index` and, in a numbered list, `name.number`
 * (names no parameter can have).
 */
function itemValues(values: Values, name: string, item: string, index: number): Values {
  const at = item.indexOf('=');
  const scoped = new Map(values);
  scoped.set(name, item);
  scoped.set(`${name}.key`, (at < 0 ? item : item.slice(0, at)).trim());
  scoped.set(`${name}.value`, at < 0 ? '' : item.slice(at + 1).trim());
  scoped.set(`${name}.index`, String(index));
  const numbers = values.get(numbersKey(name));
  if (Array.isArray(numbers)) scoped.set(`${name}.number`, Number(numbers[index]));
  return scoped;
}

function asText(value: ParameterValue, mode: Mode): string {
  const text = formatValue(value);
  return mode === 'kubelet' ? text.replace(/\$/g, '$$$$') : text;
}

/**
 * Parameter values go into string leaves of the already-parsed tree: a value can never add a
 * key, an item or a level, whatever characters it holds.
 */
function compileString(text: string, mode: Mode): Renderer {
  if (!text.includes('{{')) return () => text;
  const whole = WHOLE.exec(text);
  if (whole) {
    const [, name = '', part] = whole;
    return (values) => {
      const value = lookup(values, name, part);
      if (value === undefined) return '';
      return typeof value === 'number' || typeof value === 'boolean' ? value : asText(value, mode);
    };
  }
  // Literal text and placeholders in turn; a value is never read for placeholders again.
  const pieces: (string | { name: string; part: string | undefined })[] = [];
  let at = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    pieces.push(text.slice(at, match.index), { name: match[1] ?? '', part: match[2] });
    at = match.index + match[0].length;
  }
  if (pieces.length === 0) return () => text;
  pieces.push(text.slice(at));
  return (values) => {
    let out = '';
    for (const piece of pieces) {
      if (typeof piece === 'string') out += piece;
      else {
        const value = lookup(values, piece.name, piece.part);
        if (value !== undefined) out += asText(value, mode);
      }
    }
    return out;
  };
}

function holdsOne(condition: Condition | undefined, values: Values): boolean {
  if (!condition) return false;
  const value = values.get(
    condition.part === undefined ? condition.param : `${condition.param}.${condition.part}`,
  );
  const text = value === undefined ? undefined : formatValue(value);
  const truth =
    condition.kind === 'set'
      ? isSet(value)
      : condition.kind === 'equals'
        ? text === condition.value
        : text !== undefined && text.startsWith(condition.value);
  return truth !== condition.negate;
}

/** A `$when`: one condition, or a list of which every one must hold; anything else never holds. */
function compileWhen(when: Json | undefined): (values: Values) => boolean {
  if (typeof when === 'string') {
    const condition = parseCondition(when);
    return (values) => holdsOne(condition, values);
  }
  if (!isArray(when) || when.some((c) => typeof c !== 'string')) return () => false;
  const conditions = when.map((c) => (typeof c === 'string' ? parseCondition(c) : undefined));
  return (values) => conditions.every((c) => holdsOne(c, values));
}

export function holds(when: Json | undefined, values: Values): boolean {
  return compileWhen(when)(values);
}

/** An item of a list or a map's value: an object with `$when` is kept only when it holds. */
function compileItem(item: Json, mode: Mode): Renderer {
  if (!isObject(item) || !('$when' in item)) return compileTree(item, mode);
  const { $when: when, $value: value, ...rest } = item;
  const condition = compileWhen(when);
  const body = compileTree(value ?? rest, mode);
  return (values) => (condition(values) ? body(values) : undefined);
}

/**
 * `{ $each: list, $value: tree }` in a list: the tree once per item of the list parameter, in
 * order (a `$value` that is a list gives all its items each time). The item is data like any
 * value: it fills string leaves of the tree, and only the number of copies depends on it.
 */
function compileEach(item: JsonObject, mode: Mode): (values: Values) => Json[] {
  const { $each: name, $when: when, $value: value, ...rest } = item;
  const condition = when === undefined ? () => true : compileWhen(when);
  const body = isArray(value) ? compileList(value, mode) : compileItem(value ?? rest, mode);
  const spread = isArray(value);
  return (values) => {
    const list = typeof name === 'string' ? values.get(name) : undefined;
    if (!condition(values) || !Array.isArray(list)) return [];
    const out: Json[] = [];
    (list as readonly string[]).forEach((entry, index) => {
      const rendered = body(itemValues(values, name as string, entry, index));
      if (spread && isArray(rendered)) out.push(...rendered);
      else if (rendered !== undefined) out.push(rendered);
    });
    return out;
  };
}

function compileList(list: readonly Json[], mode: Mode): (values: Values) => Json[] {
  const items = list.map((item): ((values: Values) => Json[]) => {
    if (isObject(item) && '$each' in item) return compileEach(item, mode);
    const one = compileItem(item, mode);
    return (values) => {
      const rendered = one(values);
      return rendered === undefined ? [] : [rendered];
    };
  });
  return (values) => {
    const out: Json[] = [];
    for (const item of items) out.push(...item(values));
    return out;
  };
}

function compileMap(tree: JsonObject, mode: Mode): Renderer {
  const keys = Object.keys(tree);
  if (keys.length === 1 && keys[0] === '$json') {
    const inner = compileTree(tree.$json ?? null, mode);
    return (values) => JSON.stringify(inner(values) ?? null);
  }
  const entries = keys
    .filter((key) => key !== '$when')
    .map((key) => {
      const value = tree[key] ?? null;
      return {
        key,
        render: compileItem(value, KUBELET_EXPANDED.has(key) ? 'kubelet' : mode),
        // A list whose every item was conditional and left out is left out too, not written empty.
        dropWhenEmpty: isArray(value) && value.length > 0,
      };
    });
  return (values) => {
    const out: JsonObject = {};
    for (const { key, render, dropWhenEmpty } of entries) {
      const rendered = render(values);
      if (rendered === undefined || (dropWhenEmpty && isArray(rendered) && rendered.length === 0)) continue;
      setOwn(out, key, rendered);
    }
    return out;
  };
}

function compileTree(tree: Json, mode: Mode): Renderer {
  if (typeof tree === 'string') return compileString(tree, mode);
  if (isArray(tree)) return compileList(tree, mode);
  if (isObject(tree)) return compileMap(tree, mode);
  return () => tree;
}

/** Compiled renderers of template trees, by how and where they are read; they go with the set. */
const compiled = {
  tree: { plain: new WeakMap<object, Renderer>(), kubelet: new WeakMap<object, Renderer>() },
  item: { plain: new WeakMap<object, Renderer>(), kubelet: new WeakMap<object, Renderer>() },
};

function rendererOf(tree: Json, mode: Mode, as: 'tree' | 'item'): Renderer {
  if (typeof tree !== 'object' || tree === null) return compileTree(tree, mode);
  const cache = compiled[as][mode];
  let renderer = cache.get(tree);
  if (renderer === undefined) {
    renderer = as === 'item' ? compileItem(tree, mode) : compileTree(tree, mode);
    cache.set(tree, renderer);
  }
  return renderer;
}

export function render(tree: Json, values: Values, mode: Mode = 'plain'): Json {
  return rendererOf(tree, mode, 'tree')(values) ?? null;
}

export function renderObject(tree: JsonObject, values: Values): JsonObject | undefined {
  const rendered = rendererOf(tree, 'plain', 'item')(values);
  return isObject(rendered) ? rendered : undefined;
}
