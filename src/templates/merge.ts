import { createHash } from 'node:crypto';
import { DEFAULT_IMAGE } from '../identity.js';
import { lintTemplate } from './lint.js';
import { parseTemplateFile } from './parse-file.js';
import { restrictedViolations } from './restricted.js';
import type { LoadOptions, SidecarTemplate, TemplateLoad, TemplateSet, TemplateSource } from './types.js';

function findCycle(templates: ReadonlyMap<string, SidecarTemplate>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    const t = templates.get(name);
    for (const dep of t ? [...t.requires, ...t.after] : []) {
      const cycle = templates.has(dep) ? visit(dep) : undefined;
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of [...templates.keys()].sort()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

function crossCheck(templates: ReadonlyMap<string, SidecarTemplate>): string[] {
  const problems: string[] = [];
  for (const t of templates.values()) {
    for (const [field, names] of [
      ['requires', t.requires],
      ['after', t.after],
    ] as const) {
      for (const name of names) {
        if (name === t.name) problems.push(`${t.source}: spec.${field}: '${name}' is the template itself`);
        else if (!templates.has(name))
          problems.push(`${t.source}: spec.${field}: no template named '${name}'`);
      }
    }
  }
  const cycle = findCycle(templates);
  if (cycle) problems.push(`dependency cycle through requires/after: ${cycle.join(' -> ')}`);
  return problems;
}

/**
 * Pure: the files of a base directory and of the directories that add to it, in that order, as
 * one checked set, or every problem. A later directory only adds: a name it shares with an
 * earlier one is a problem naming both files, never a replacement (replacing is what choosing
 * another base directory is for). `requires`, `after` and cycles are checked on the merged set,
 * so a template may name one from another directory; the hash covers every template in it.
 */
export function mergeTemplateSources(
  sources: readonly TemplateSource[],
  options: LoadOptions = {},
): TemplateLoad {
  const image = options.image ?? DEFAULT_IMAGE;
  const problems: string[] = [];
  const templates = new Map<string, { template: SidecarTemplate; from: number }>();
  sources.forEach((source, from) => {
    if (source.files.length === 0) problems.push(`${source.dir}: no template files (*.yaml)`);
    for (const file of source.files) {
      const parsed = parseTemplateFile(file, image);
      problems.push(...parsed.problems);
      for (const template of parsed.templates) {
        const other = templates.get(template.name);
        if (other === undefined) templates.set(template.name, { template, from });
        else if (other.from === from)
          problems.push(
            `${file.path}: metadata.name: '${template.name}' is also defined in ${other.template.source}`,
          );
        else
          problems.push(
            `template '${template.name}' is defined in both ${other.template.source} and ${template.source}: a directory that adds templates cannot replace one`,
          );
      }
    }
  });
  const merged = new Map([...templates].map(([name, { template }]) => [name, template]));
  problems.push(...crossCheck(merged));
  if (problems.length > 0) return { ok: false, problems };
  const warnings = [...merged.values()].flatMap((t) => [
    ...restrictedViolations(t).map((v) => `${t.source}: not Pod Security 'restricted' compliant: ${v}`),
    ...lintTemplate(t).map((v) => `${t.source}: template ${t.name}: ${v}`),
  ]);
  const sorted = [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
  const hash = createHash('sha256')
    .update(sorted.map((t) => `${t.name}:${t.hash}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const set: TemplateSet = {
    templates: new Map(sorted.map((t) => [t.name, t])),
    warnings,
    hash,
    dirs: sources.map((s) => s.dir),
  };
  return { ok: true, set };
}
