import type { SidecarTemplate, TemplateSet } from '../templates/types.js';
import { hint } from './did-you-mean.js';

export interface Chosen {
  template: SidecarTemplate;
  reason: string;
  /** Sidecars that must start before this one (its requires, and its after when injected). */
  dependsOn: string[];
  /** The part of dependsOn that the template requires (the rest is its `after`, and `watches`). */
  requires: readonly string[];
  /** The sidecars whose watchable volumes this watcher watches: they start first, so it finds them filled. */
  watches: readonly string[];
}

/** The requested sidecars and, transitively, what they require, with why each is there. */
function closure(requested: readonly string[], templates: TemplateSet): Map<string, string> {
  const reasons = new Map<string, string>();
  const pending = requested.map((name) => ({ name, reason: 'requested' }));
  for (let item = pending.shift(); item !== undefined; item = pending.shift()) {
    if (reasons.has(item.name)) continue;
    reasons.set(item.name, item.reason);
    const requires = templates.templates.get(item.name)?.requires ?? [];
    pending.push(...requires.map((dep) => ({ name: dep, reason: `required by ${item.name}` })));
  }
  return reasons;
}

/** A list written with `;` or spaces where commas belong: each part a known name. */
function separatedWrongly(name: string, templates: TemplateSet): string[] | undefined {
  const parts = name.split(/[;\s]+/).filter((p) => p !== '');
  return parts.length > 1 && parts.every((p) => templates.templates.has(p)) ? parts : undefined;
}

/** One problem for every unknown name, with the known sidecars listed once at the end. */
function unknownSidecars(unknown: readonly string[], templates: TemplateSet, injectKey: string): string {
  const names = [...templates.templates.keys()];
  const described = unknown.map((name) => {
    const parts = separatedWrongly(name, templates);
    if (parts) return `'${name}' (separate the names with commas: ${parts.join(', ')})`;
    if (/[;\s]/.test(name)) return `'${name}' (names in the list are separated by commas)`;
    return `'${name}'${hint(name, names)}`;
  });
  const what = unknown.length === 1 ? 'unknown sidecar' : 'unknown sidecars';
  return `annotation ${injectKey}: ${what} ${described.join(', ')}; known sidecars: ${names.join(', ')}`;
}

/**
 * The sidecars to inject in start order: each one's dependencies just before it, and otherwise
 * the order of the inject annotation.
 */
export function chooseSidecars(
  requested: readonly string[],
  templates: TemplateSet,
  injectKey: string,
  problems: string[],
): Chosen[] {
  const unknown = requested.filter((name) => !templates.templates.has(name));
  if (unknown.length > 0) {
    problems.push(unknownSidecars(unknown, templates, injectKey));
    return [];
  }
  const reasons = closure(requested, templates);
  const ordered: Chosen[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: readonly string[]): boolean => {
    if (state.get(name) === 'done') return true;
    if (state.get(name) === 'visiting') {
      problems.push(
        `annotation ${injectKey}: the sidecars ${[...trail.slice(trail.indexOf(name)), name].join(' -> ')} depend on each other in a cycle`,
      );
      return false;
    }
    const template = templates.templates.get(name);
    if (!template) return true;
    state.set(name, 'visiting');
    const watches = template.podVolumeMounts
      ? [...reasons.keys()].filter(
          (n) => n !== name && (templates.templates.get(n)?.watchable.length ?? 0) > 0,
        )
      : [];
    const dependsOn = [
      ...new Set([...template.requires, ...template.after.filter((a) => reasons.has(a)), ...watches]),
    ];
    if (!dependsOn.every((dep) => visit(dep, [...trail, name]))) return false;
    state.set(name, 'done');
    ordered.push({
      template,
      reason: reasons.get(name) ?? 'requested',
      dependsOn,
      requires: template.requires,
      watches,
    });
    return true;
  };
  for (const name of requested) if (!visit(name, [])) return [];
  return ordered;
}
