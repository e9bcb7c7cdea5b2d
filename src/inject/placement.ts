import { isArray } from '../json.js';
import type { JsonObject } from '../json.js';
import { BUILTIN_AFTER } from '../templates/names.js';
import type { Sidecar } from './merge.js';
import type { Chosen } from './order.js';
import type { Values } from './parameters.js';
import { nameOf } from './pod.js';

/**
 * Where each sidecar starts among the Pod's own init containers: before all of them unless its
 * `after` parameter names one; a sidecar that depends on another never starts before it.
 */
export function placeSidecars(
  spec: JsonObject,
  chosen: readonly (Chosen & { values: Values })[],
  prefix: string,
  problems: string[],
): Sidecar[] {
  const own = (isArray(spec.initContainers) ? spec.initContainers : []).map((c) => nameOf(c) ?? '');
  const slots = new Map<string, number>();
  const placed: Sidecar[] = [];
  for (const c of chosen) {
    const name = c.template.name;
    let slot = 0;
    const after = c.values.get(BUILTIN_AFTER);
    if (typeof after === 'string' && after !== '') {
      const index = own.indexOf(after);
      const key = `${prefix}/${name}.${BUILTIN_AFTER}`;
      if (chosen.some((other) => other.template.name === after)) {
        problems.push(
          `annotation ${key}: ${after} is a sidecar; sidecars are ordered by their templates' requires and after`,
        );
      } else if (index < 0) {
        problems.push(
          `annotation ${key}: the Pod has no init container named ${after}; its init containers: ${own.join(', ') || 'none'}`,
        );
      } else slot = index + 1;
    }
    for (const dep of c.dependsOn) slot = Math.max(slot, slots.get(dep) ?? 0);
    slots.set(name, slot);
    placed.push({ ...c, slot });
  }
  return placed;
}

/** "first", "after vault-agent", "after init container migrate", for `explain`. */
export function describePositions(spec: JsonObject, sidecars: ReadonlySet<string>): Map<string, string> {
  const init = isArray(spec.initContainers) ? spec.initContainers.map((c) => nameOf(c) ?? '') : [];
  const out = new Map<string, string>();
  init.forEach((name, i) => {
    if (!sidecars.has(name)) return;
    const before = init[i - 1];
    if (before === undefined) out.set(name, 'first');
    else out.set(name, sidecars.has(before) ? `after ${before}` : `after init container ${before}`);
  });
  return out;
}
