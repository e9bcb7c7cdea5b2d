import { isArray, isObject, setOwn, type Json, type JsonObject } from '../json.js';
import { parseCondition } from '../templates/condition.js';
import { PLACEHOLDER } from '../templates/names.js';
import { formatValue, isSet } from '../templates/parameter-value.js';
import type { ParameterValue } from '../templates/types.js';
import type { Values } from './parameters.js';

const WHOLE = /^\{\{\s*([a-z][a-z0-9-]*)\s*\}\}$/;

function scalar(value: ParameterValue): Json {
  return Array.isArray(value) ? formatValue(value) : (value as string | number | boolean);
}

/**
 * Parameter values go into string leaves of the already-parsed tree: a value can never add a
 * key, an item or a level, whatever characters it holds.
 */
function renderString(text: string, values: Values): Json {
  const whole = WHOLE.exec(text);
  if (whole) {
    const value = values.get(whole[1] ?? '');
    return value === undefined ? '' : scalar(value);
  }
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = values.get(name);
    return value === undefined ? '' : formatValue(value);
  });
}

export function holds(condition: string, values: Values): boolean {
  const parsed = parseCondition(condition);
  if (!parsed) return false;
  const value = values.get(parsed.param);
  switch (parsed.kind) {
    case 'set':
      return isSet(value) !== parsed.negate;
    case 'equals':
      return value !== undefined && formatValue(value) === parsed.value;
    case 'prefix':
      return value !== undefined && formatValue(value).startsWith(parsed.value);
  }
}

/** Kept (rendered, without its `$when`), or undefined when its condition does not hold. */
function renderConditional(object: JsonObject, values: Values): Json | undefined {
  const { $when: when, $value: value, ...rest } = object;
  if (typeof when === 'string' && !holds(when, values)) return undefined;
  if (value !== undefined) return render(value, values);
  return render(rest, values);
}

function renderItem(item: Json, values: Values): Json | undefined {
  return isObject(item) && '$when' in item ? renderConditional(item, values) : render(item, values);
}

function renderMap(tree: JsonObject, values: Values): Json {
  const keys = Object.keys(tree);
  if (keys.length === 1 && keys[0] === '$json') return JSON.stringify(render(tree.$json ?? null, values));
  const out: JsonObject = {};
  for (const key of keys) {
    if (key === '$when') continue;
    const value = tree[key] ?? null;
    const rendered = renderItem(value, values);
    // A list whose every item was conditional and left out is left out too, not written empty.
    const emptied = isArray(value) && value.length > 0 && isArray(rendered) && rendered.length === 0;
    if (rendered !== undefined && !emptied) setOwn(out, key, rendered);
  }
  return out;
}

export function render(tree: Json, values: Values): Json {
  if (typeof tree === 'string') return renderString(tree, values);
  if (isArray(tree)) {
    const out: Json[] = [];
    for (const item of tree) {
      const rendered = renderItem(item, values);
      if (rendered !== undefined) out.push(rendered);
    }
    return out;
  }
  return isObject(tree) ? renderMap(tree, values) : tree;
}

export function renderObject(tree: JsonObject, values: Values): JsonObject | undefined {
  const rendered = '$when' in tree ? renderConditional(tree, values) : render(tree, values);
  return isObject(rendered) ? rendered : undefined;
}
