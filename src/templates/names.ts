/** DNS-1123 label: container, volume and template names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const PARAMETER_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** `{{ name }}` or `{{ name.part }}` (a part of a URL value), with optional spaces. */
export const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9-]*)(?:\.([a-z]+))?\s*\}\}/g;

/** The parts of a URL-valued parameter a template may use. */
export const URL_PARTS: readonly string[] = ['scheme', 'hostname', 'port', 'path'];

/**
 * The parts of the current item of a list parameter inside `$each: <list>`: for an item
 * `name=value`, `key` is `name` and `value` is `value` (an item without `=` is all key), and
 * `index` counts from 0, and in a numbered list (`numberFrom`) `number` is the item's number, an
 * integer. `{{ list }}` itself is the whole item there.
 */
export const ITEM_PARTS: readonly string[] = ['key', 'value', 'index', 'number'];

/** Parameters every template has without declaring them. */
export const BUILTIN_AFTER = 'after';
export const BUILTIN_CONTAINERS = 'containers';

/** Prefix of the Pod volumes a template adds. */
export function podVolumeName(template: string, volume: string): string {
  return `sidekick-${template}-${volume}`;
}
