import { isArray, isObject, setOwn, type Json, type JsonObject } from '../json.js';
import { parseCondition } from '../templates/condition.js';
import { PLACEHOLDER } from '../templates/names.js';
import { formatValue, isSet } from '../templates/parameter-value.js';
import type { ParameterValue } from '../templates/types.js';
import type { Values } from './parameters.js';

const WHOLE = new RegExp(`^${PLACEHOLDER.source}$`);
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

/**
 * kubelet expands `$(VAR)` in command, args and env values; a value placed there is written
 * with `$$` so that it stays the text it was and cannot read the container's variables.
 */
type Mode = 'plain' | 'kubelet';
const KUBELET_EXPANDED = new Set(['command', 'args', 'env']);

function urlPart(value: ParameterValue | undefined, part: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) return '';
  const url = new URL(value);
  const scheme = url.protocol.replace(/:$/, '');
  switch (part) {
    case 'scheme':
      return scheme;
    case 'hostname':
      return url.hostname;
    case 'port':
      return url.port || (DEFAULT_PORTS[scheme] ?? '');
    default:
      return url.pathname === '/' && url.search === '' && !value.endsWith('/')
        ? ''
        : url.pathname + url.search;
  }
}

function lookup(values: Values, name: string, part: string | undefined): ParameterValue | undefined {
  return part === undefined ? values.get(name) : urlPart(values.get(name), part);
}

function asText(value: ParameterValue, mode: Mode): string {
  const text = formatValue(value);
  return mode === 'kubelet' ? text.replace(/\$/g, '$$$$') : text;
}

/**
 * Parameter values go into string leaves of the already-parsed tree: a value can never add a
 * key, an item or a level, whatever characters it holds.
 */
function renderString(text: string, values: Values, mode: Mode): Json {
  if (!text.includes('{{')) return text;
  const whole = WHOLE.exec(text);
  if (whole) {
    const value = lookup(values, whole[1] ?? '', whole[2]);
    if (value === undefined) return '';
    return typeof value === 'number' || typeof value === 'boolean' ? value : asText(value, mode);
  }
  return text.replace(PLACEHOLDER, (_, name: string, part: string | undefined) => {
    const value = lookup(values, name, part);
    return value === undefined ? '' : asText(value, mode);
  });
}

function holdsOne(condition: string, values: Values): boolean {
  const parsed = parseCondition(condition);
  if (!parsed) return false;
  const value = values.get(parsed.param);
  const text = value === undefined ? undefined : formatValue(value);
  const truth =
    parsed.kind === 'set'
      ? isSet(value)
      : parsed.kind === 'equals'
        ? text === parsed.value
        : text !== undefined && text.startsWith(parsed.value);
  return truth !== parsed.negate;
}

/** A `$when`: one condition, or a list of which every one must hold. */
export function holds(when: Json | undefined, values: Values): boolean {
  if (typeof when === 'string') return holdsOne(when, values);
  return isArray(when) && when.every((c) => typeof c === 'string' && holdsOne(c, values));
}

/** Kept (rendered, without its `$when`), or undefined when its condition does not hold. */
function renderConditional(object: JsonObject, values: Values, mode: Mode): Json | undefined {
  const { $when: when, $value: value, ...rest } = object;
  if (!holds(when, values)) return undefined;
  return render(value ?? rest, values, mode);
}

function renderItem(item: Json, values: Values, mode: Mode): Json | undefined {
  return isObject(item) && '$when' in item
    ? renderConditional(item, values, mode)
    : render(item, values, mode);
}

function renderMap(tree: JsonObject, values: Values, mode: Mode): Json {
  const keys = Object.keys(tree);
  if (keys.length === 1 && keys[0] === '$json')
    return JSON.stringify(render(tree.$json ?? null, values, mode));
  const out: JsonObject = {};
  for (const key of keys) {
    if (key === '$when') continue;
    const value = tree[key] ?? null;
    const rendered = renderItem(value, values, KUBELET_EXPANDED.has(key) ? 'kubelet' : mode);
    // A list whose every item was conditional and left out is left out too, not written empty.
    const emptied = isArray(value) && value.length > 0 && isArray(rendered) && rendered.length === 0;
    if (rendered !== undefined && !emptied) setOwn(out, key, rendered);
  }
  return out;
}

export function render(tree: Json, values: Values, mode: Mode = 'plain'): Json {
  if (typeof tree === 'string') return renderString(tree, values, mode);
  if (isArray(tree)) {
    const out: Json[] = [];
    for (const item of tree) {
      const rendered = renderItem(item, values, mode);
      if (rendered !== undefined) out.push(rendered);
    }
    return out;
  }
  return isObject(tree) ? renderMap(tree, values, mode) : tree;
}

export function renderObject(tree: JsonObject, values: Values): JsonObject | undefined {
  const rendered = renderItem(tree, values, 'plain');
  return isObject(rendered) ? rendered : undefined;
}
