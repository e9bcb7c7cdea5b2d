import fc from 'fast-check';
import type { Json } from '../../../src/json.js';
import type { TemplateSet } from '../../../src/templates/types.js';
import type { PropertyDef } from './properties.js';

/** How many cases of each kind a run saw: a property that never injects would prove little. */
export type Tally = Map<string, number>;

export function propertyOf(
  def: PropertyDef,
  templates: TemplateSet,
  tally: Tally,
): fc.IPropertyWithHooks<[Json]> {
  return fc.property(def.arbitrary(templates), (value) => {
    const label = def.check(templates, value);
    tally.set(label, (tally.get(label) ?? 0) + 1);
  });
}

export function shares(tally: Tally): string {
  const total = [...tally.values()].reduce((a, b) => a + b, 0);
  return [...tally.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([label, n]) => `${label} ${((100 * n) / Math.max(total, 1)).toFixed(1)}%`)
    .join(', ');
}

/** Kinds of case that fell below their minimum share; only judged on runs large enough to say. */
export function missingShares(def: PropertyDef, tally: Tally): string[] {
  const total = [...tally.values()].reduce((a, b) => a + b, 0);
  if (total < 2000) return [];
  return Object.entries(def.minimumShares ?? {}).flatMap(([label, minimum]) => {
    const share = (tally.get(label) ?? 0) / total;
    return share < minimum ? [`${label}: ${(100 * share).toFixed(1)}% < ${100 * minimum}%`] : [];
  });
}
