import { numberItems } from '../templates/numbered.js';
import { formatValue, isSet, parseValue } from '../templates/parameter-value.js';
import type { ParameterSpec, ParameterValue, SidecarTemplate } from '../templates/types.js';
import type { PlannedParameter } from './types.js';

export type Values = ReadonlyMap<string, ParameterValue>;

/** Where a numbered list's numbers are kept among the values: no parameter has a dot in its name. */
export function numbersKey(list: string): string {
  return `${list}.numbers`;
}

/**
 * The numbers of each numbered list's items (spec.numberFrom), kept beside its value; two
 * items with one number (two listeners on one port) are refused, naming both annotations.
 */
function numberLists(
  template: SidecarTemplate,
  values: Map<string, ParameterValue>,
  invalid: ReadonlySet<string>,
  prefix: string,
  problems: string[],
): void {
  const key = (name: string): string => `${prefix}/${template.name}.${name}`;
  for (const list of template.parameters) {
    const fromName = list.numberFrom;
    if (fromName === undefined || invalid.has(list.name) || invalid.has(fromName)) continue;
    const items = values.get(list.name);
    const start = values.get(fromName);
    const from: ParameterSpec | undefined = template.parameters.find((p) => p.name === fromName);
    if (!Array.isArray(items) || typeof start !== 'number' || from === undefined) continue;
    const bounds = {
      ...(from.minimum !== undefined ? { minimum: from.minimum } : {}),
      ...(from.maximum !== undefined ? { maximum: from.maximum } : {}),
    };
    const numbering = numberItems(items as readonly string[], start, bounds);
    for (const { text, counted } of numbering.problems) {
      const how = counted ? ` (items without =N take ${key(fromName)}, ${start}, and on, in order)` : '';
      problems.push(`annotation ${key(list.name)}: ${text}${how}`);
    }
    if (numbering.problems.length === 0) values.set(numbersKey(list.name), numbering.numbers.map(String));
  }
}

/**
 * The typed parameter values of one sidecar: annotation values checked against their specs,
 * defaults for the rest. Every problem names the annotation.
 */
export function resolveParameters(
  template: SidecarTemplate,
  given: ReadonlyMap<string, string> | undefined,
  prefix: string,
  problems: string[],
): { values: Values; planned: Record<string, PlannedParameter> } {
  const values = new Map<string, ParameterValue>();
  const planned: Record<string, PlannedParameter> = {};
  /** Given but refused: a group it belongs to is not judged again ("none is set" would be false). */
  const invalid = new Set<string>();
  for (const spec of template.parameters) {
    const key = `${prefix}/${template.name}.${spec.name}`;
    const raw = given?.get(spec.name);
    if (raw !== undefined && raw.trim() !== '') {
      const parsed = parseValue(spec, raw);
      if ('error' in parsed) {
        problems.push(`annotation ${key}: value ${JSON.stringify(raw)} ${parsed.error}`);
        invalid.add(spec.name);
        continue;
      }
      values.set(spec.name, parsed.value);
      planned[spec.name] = { value: parsed.value, source: 'annotation' };
    } else if (spec.default !== undefined) {
      values.set(spec.name, spec.default);
      planned[spec.name] = { value: spec.default, source: 'default' };
    } else if (spec.required) {
      problems.push(`annotation ${key} is required: ${spec.description}`);
    }
  }
  numberLists(template, values, invalid, prefix, problems);
  for (const group of template.exactlyOneOf) {
    if (group.some((name) => invalid.has(name))) continue;
    const set = group.filter((name) => isSet(values.get(name)));
    if (set.length !== 1) {
      const keys = group.map((name) => `${prefix}/${template.name}.${name}`).join(', ');
      const got =
        set.length === 0
          ? 'none is set'
          : `${set.map((n) => `${n}=${formatValue(values.get(n) ?? '')}`).join(' and ')} are set`;
      problems.push(`exactly one of the annotations ${keys} must be set: ${got}`);
    }
  }
  return { values, planned };
}
