import { isArray } from '../json.js';
import type { JsonObject } from '../json.js';
import { BUILTIN_AFTER } from '../templates/names.js';
import type { Sidecar } from './merge.js';
import type { Chosen } from './order.js';
import type { Values } from './parameters.js';
import { nameOf } from './pod.js';

type Candidate = Chosen & { values: Values };

/** The init container a sidecar's `after` parameter names, as a slot (0: before all of them). */
function anchorSlot(
  c: Candidate,
  own: readonly string[],
  chosen: readonly Candidate[],
  key: string,
  problems: string[],
): number {
  const after = c.values.get(BUILTIN_AFTER);
  if (typeof after !== 'string' || after === '') return 0;
  if (chosen.some((other) => other.template.name === after)) {
    problems.push(
      `annotation ${key}: ${after} is a sidecar; sidecars are ordered by their templates' requires and after`,
    );
    return 0;
  }
  const index = own.indexOf(after);
  if (index < 0) {
    problems.push(
      `annotation ${key}: the Pod has no init container named ${after}; its init containers: ${own.join(', ') || 'none'}`,
    );
    return 0;
  }
  return index + 1;
}

/** Why `s` starts right after `before`, a sidecar: the constraint that put it there. */
function afterSidecar(s: Candidate, before: Candidate): string {
  const name = s.template.name;
  const other = before.template.name;
  if (s.requires.includes(other)) return `after ${other}: ${name} requires it`;
  if (s.watches.includes(other)) return `after ${other}: ${name} watches its volume`;
  if (s.dependsOn.includes(other)) return `after ${other}: ${name}'s template says after`;
  const by = /^required by (.+)$/.exec(s.reason)?.[1];
  if (by !== undefined) return `after ${other}: pulled in by requires of ${by}, so just before it`;
  return `after ${other}: the order of the inject annotation`;
}

/**
 * Where each sidecar starts among the Pod's own init containers, and why: before all of them
 * unless its `after` parameter names one; a sidecar never starts before what it depends on.
 * The result is the start order itself, sorted by slot (stable, so dependencies stay first
 * within a slot): merge lays the sidecars out in exactly this order, and verify checks against
 * this same list, so placement and verification cannot disagree.
 */
export function placeSidecars(
  spec: JsonObject,
  chosen: readonly Candidate[],
  prefix: string,
  problems: string[],
): Sidecar[] {
  const own = (isArray(spec.initContainers) ? spec.initContainers : []).map((c) => nameOf(c) ?? '');
  const slots = new Map<string, number>();
  const anchors = new Map<string, number>();
  for (const c of chosen) {
    const name = c.template.name;
    const anchor = anchorSlot(c, own, chosen, `${prefix}/${name}.${BUILTIN_AFTER}`, problems);
    anchors.set(name, anchor);
    slots.set(name, Math.max(anchor, ...c.dependsOn.map((dep) => slots.get(dep) ?? 0)));
  }
  const ordered = chosen
    .map((c, index) => ({ c, index, slot: slots.get(c.template.name) ?? 0 }))
    .sort((x, y) => x.slot - y.slot || x.index - y.index);
  return ordered.map(({ c, slot }, i) => {
    const name = c.template.name;
    const previous = ordered[i - 1];
    const reasons: string[] = [];
    if (previous !== undefined && previous.slot === slot) reasons.push(afterSidecar(c, previous.c));
    const anchor = anchors.get(name) ?? 0;
    const key = `${prefix}/${name}.${BUILTIN_AFTER}`;
    if (anchor > 0 && anchor === slot)
      reasons.push(`after init container ${own[anchor - 1] ?? ''}: annotation ${key}`);
    if (slot > anchor) {
      const dep = c.dependsOn.find((d) => slots.get(d) === slot) ?? '';
      reasons.push(
        `after init container ${own[slot - 1] ?? ''}: ${dep}, which ${name} starts after, starts there`,
      );
    }
    if (reasons.length === 0) reasons.push('first');
    return { ...c, slot, position: reasons.join('; ') };
  });
}
