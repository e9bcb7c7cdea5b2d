import { isArray, isObject, type Json } from '../json.js';
import { checkValue } from './parameter-value.js';
import { compareQuantities, readQuantity } from './quantity.js';
import type { Problems } from './schema.js';
import type { ParameterSpec, ParameterType, ParameterValue } from './types.js';

const TYPES: readonly ParameterType[] = [
  'string',
  'integer',
  'boolean',
  'duration',
  'enum',
  'list',
  'quantity',
];
const FIELDS = new Set([
  'type',
  'description',
  'required',
  'default',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'values',
  'numberFrom',
]);

function isParameterType(value: Json | undefined): value is ParameterType {
  return typeof value === 'string' && (TYPES as readonly string[]).includes(value);
}

function typedDefault(value: Json | undefined): ParameterValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return undefined;
}

type Fail = (field: string, problem: string) => void;

function checkPattern(def: Record<string, Json>, fail: Fail): void {
  if (def.pattern === undefined) return;
  if (typeof def.pattern !== 'string') {
    fail('pattern', 'must be a string');
    return;
  }
  try {
    new RegExp(def.pattern, 'u');
  } catch {
    fail('pattern', 'is not a valid regular expression');
  }
}

function checkNumberFrom(def: Record<string, Json>, fail: Fail): void {
  if (def.numberFrom !== undefined && (def.type !== 'list' || typeof def.numberFrom !== 'string'))
    fail('numberFrom', 'only a list has numberFrom, the name of an integer parameter');
}

function checkEnum(def: Record<string, Json>, fail: Fail): void {
  const values = def.values;
  if (def.type !== 'enum') {
    if (values !== undefined) fail('values', 'only an enum has values');
  } else if (!isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
    fail('values', 'an enum needs a list of string values');
  }
}

function checkQuantityBounds(def: Record<string, Json>, fail: Fail): void {
  const read = (bound: 'minimum' | 'maximum') => {
    if (def[bound] === undefined) return undefined;
    const q = readQuantity(def[bound]);
    if ('error' in q) fail(bound, q.error);
    return 'error' in q ? undefined : q.quantity;
  };
  const lo = read('minimum');
  const hi = read('maximum');
  if (lo && hi && compareQuantities(lo, hi) > 0) fail('minimum', 'is larger than maximum');
}

/** A quantity bound as its canonical text; checked by checkQuantityBounds. */
function quantityText(value: Json | undefined): string | undefined {
  const q = value === undefined ? undefined : readQuantity(value);
  return q === undefined || 'error' in q ? undefined : q.text;
}

/** Integer bounds, or a quantity's in canonical form. */
function bounds(def: Record<string, Json>): Partial<ParameterSpec> {
  const { minimum, maximum } = def;
  if (def.type === 'quantity') {
    const lo = quantityText(minimum);
    const hi = quantityText(maximum);
    return {
      ...(lo !== undefined ? { quantityMinimum: lo } : {}),
      ...(hi !== undefined ? { quantityMaximum: hi } : {}),
    };
  }
  return {
    ...(typeof minimum === 'number' ? { minimum } : {}),
    ...(typeof maximum === 'number' ? { maximum } : {}),
  };
}

function checkShape(name: string, def: Record<string, Json>, field: string, problems: Problems): boolean {
  let ok = true;
  const fail: Fail = (f, problem) => {
    problems.add(`${field}.${f}`, problem);
    ok = false;
  };
  checkPattern(def, fail);
  checkEnum(def, fail);
  checkNumberFrom(def, fail);
  if (def.type === 'quantity') checkQuantityBounds(def, fail);
  else {
    for (const bound of ['minimum', 'maximum'] as const) {
      if (def[bound] !== undefined && !Number.isInteger(def[bound])) fail(bound, 'must be an integer');
    }
  }
  if (def.required === true && def.default !== undefined)
    fail('default', 'a required parameter has no default');
  for (const text of ['description', 'format'] as const) {
    if (def[text] !== undefined && typeof def[text] !== 'string') fail(text, 'must be a string');
  }
  if (def.required !== undefined && typeof def.required !== 'boolean')
    fail('required', 'must be true or false');
  if (typeof def.description !== 'string' || def.description === '')
    fail('description', `describe '${name}'`);
  return ok;
}

function withDefault(
  spec: ParameterSpec,
  definition: Json | undefined,
  field: string,
  problems: Problems,
): void {
  if (definition === undefined) return;
  // A quantity default may be a YAML number (`default: 2`); it is kept in canonical form.
  const value = spec.type === 'quantity' ? (quantityText(definition) ?? '') : typedDefault(definition);
  const error = value === undefined ? 'must be a scalar or a list of strings' : checkValue(spec, value);
  if (error !== undefined) problems.add(`${field}.default`, error);
  else if (value !== undefined) spec.default = value;
}

export function parseParameterSpec(
  name: string,
  definition: Json,
  field: string,
  problems: Problems,
): ParameterSpec | undefined {
  if (!isObject(definition)) {
    problems.add(field, 'must be a map with at least a type');
    return undefined;
  }
  for (const key of Object.keys(definition)) {
    if (!FIELDS.has(key)) problems.add(`${field}.${key}`, 'unknown field');
  }
  if (!isParameterType(definition.type)) {
    problems.add(`${field}.type`, `must be one of ${TYPES.join(', ')}`);
    return undefined;
  }
  if (!checkShape(name, definition, field, problems)) return undefined;
  const spec: ParameterSpec = {
    name,
    type: definition.type,
    description: typeof definition.description === 'string' ? definition.description : '',
    required: definition.required === true,
  };
  const { pattern, format, values, numberFrom } = definition;
  Object.assign(spec, {
    ...(typeof pattern === 'string' ? { pattern } : {}),
    ...(typeof numberFrom === 'string' ? { numberFrom } : {}),
    ...(typeof format === 'string' ? { format } : {}),
    ...bounds(definition),
    ...(isArray(values) ? { values: values.map(String) } : {}),
  });
  withDefault(spec, definition.default, field, problems);
  return spec;
}
