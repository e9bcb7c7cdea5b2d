import { BoundedCache } from '../bounded-cache.js';
import {
  compareQuantities,
  isQuantity,
  parseQuantity,
  QUANTITY_EXAMPLES,
  quantityOf,
  readQuantity,
} from './quantity.js';
import type { ParameterSpec, ParameterValue } from './types.js';

/** Go-style durations, as the programs that take them expect: `500ms`, `1s`, `1m30s`, `0`. */
export const DURATION = /^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h))+)$/;
const INTEGER = /^-?[0-9]{1,15}$/;

function range(what: string, lo: number | string | undefined, hi: number | string | undefined): string {
  if (lo !== undefined && hi !== undefined) return `${what} from ${lo} to ${hi}`;
  if (lo !== undefined) return `${what} of at least ${lo}`;
  if (hi !== undefined) return `${what} of at most ${hi}`;
  return what;
}

function describe(spec: ParameterSpec): string {
  switch (spec.type) {
    case 'integer':
      return range('an integer', spec.minimum, spec.maximum);
    case 'quantity': {
      const { quantityMinimum: lo, quantityMaximum: hi } = spec;
      if (lo === undefined && hi === undefined) return `a Kubernetes quantity such as ${QUANTITY_EXAMPLES}`;
      return range('a Kubernetes quantity', lo, hi);
    }
    case 'boolean':
      return 'true or false';
    case 'duration':
      return 'a duration such as 500ms, 1s or 2m';
    case 'enum':
      return `one of ${(spec.values ?? []).join(', ')}`;
    case 'list':
      return `a comma-separated list${spec.format ? ` of ${spec.format}` : ''}`;
    case 'string':
      return spec.format ?? (spec.pattern ? `a value matching ${spec.pattern}` : 'a string');
  }
}

/** Patterns come from the template set, so there are few; each is compiled once. */
const PATTERNS = new BoundedCache<string, RegExp>(1000);

function matches(pattern: string | undefined, text: string): boolean {
  if (pattern === undefined) return true;
  return PATTERNS.get(pattern, () => new RegExp(`^(?:${pattern})$`, 'u')).test(text);
}

/** `want` gives the expected form, built only for a message. */
type Check = (spec: ParameterSpec, value: ParameterValue, want: () => string) => string | undefined;

const CHECKS: Record<ParameterSpec['type'], Check> = {
  integer: (spec, value, want) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) return `is not an integer (${want()})`;
    if (spec.minimum !== undefined && value < spec.minimum) return `is too small (${want()})`;
    if (spec.maximum !== undefined && value > spec.maximum) return `is too large (${want()})`;
    return undefined;
  },
  quantity: (spec, value, want) => {
    const q = typeof value === 'string' ? parseQuantity(value) : undefined;
    if (q === undefined || !isQuantity(q)) return `is not a Kubernetes quantity (${want()})`;
    const bound = (text: string | undefined): number =>
      text === undefined ? 0 : compareQuantities(q, quantityOf(text));
    if (bound(spec.quantityMinimum) < 0) return `is too small (${want()})`;
    if (bound(spec.quantityMaximum) > 0) return `is too large (${want()})`;
    return undefined;
  },
  boolean: (_, value, want) => (typeof value === 'boolean' ? undefined : `is not a boolean (${want()})`),
  duration: (_, value, want) =>
    typeof value === 'string' && DURATION.test(value) ? undefined : `is not a duration (${want()})`,
  enum: (spec, value, want) =>
    typeof value === 'string' && spec.values?.includes(value) ? undefined : `is not allowed (${want()})`,
  list: (spec, value, want) => {
    if (!Array.isArray(value)) return `is not a list (${want()})`;
    const bad = (value as readonly string[]).find((item) => !matches(spec.pattern, item));
    return bad === undefined ? undefined : `has an item '${bad}' that does not fit (${want()})`;
  },
  string: (spec, value, want) => {
    if (typeof value !== 'string') return `is not a string (${want()})`;
    return matches(spec.pattern, value) ? undefined : `does not fit (${want()})`;
  },
};

/** Why a typed value does not fit its spec, or undefined when it does. */
export function checkValue(spec: ParameterSpec, value: ParameterValue): string | undefined {
  return CHECKS[spec.type](spec, value, () => `want ${describe(spec)}`);
}

/**
 * Reads an annotation value as the parameter's type. Annotation values are always strings:
 * `"5432"` is an integer parameter's 5432, `"true"` a boolean's true.
 */
export function parseValue(spec: ParameterSpec, text: string): { value: ParameterValue } | { error: string } {
  const raw = text.trim();
  let value: ParameterValue = raw;
  if (spec.type === 'integer') {
    if (!INTEGER.test(raw)) return { error: `is not an integer (want ${describe(spec)})` };
    value = Number(raw);
  } else if (spec.type === 'boolean') {
    const lower = raw.toLowerCase();
    if (lower !== 'true' && lower !== 'false') return { error: `is not a boolean (want true or false)` };
    value = lower === 'true';
  } else if (spec.type === 'quantity') {
    // Written as the apiserver stores it, so that a later admission reads back what was written.
    const q = readQuantity(raw);
    if ('error' in q) {
      const problem = q.error.startsWith('is not') ? 'is not a Kubernetes quantity' : q.error;
      return { error: `${problem} (want ${describe(spec)})` };
    }
    value = q.text;
  } else if (spec.type === 'enum') {
    value = spec.values?.find((v) => v.toLowerCase() === raw.toLowerCase()) ?? raw;
  } else if (spec.type === 'list') {
    value = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  const error = checkValue(spec, value);
  return error === undefined ? { value } : { error };
}

/** Set means given or defaulted, non-empty, and not false. */
export function isSet(value: ParameterValue | undefined): boolean {
  if (value === undefined || value === false || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

export function formatValue(value: ParameterValue): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}
