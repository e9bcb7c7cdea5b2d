import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_IMAGE } from '../identity.js';
import { isObject, type Json } from '../json.js';
import { lintTemplate } from './lint.js';
import { restrictedViolations } from './restricted.js';
import { parseTemplate } from './schema.js';
import type { SidecarTemplate, TemplateLoad, TemplateSet } from './types.js';

/** The built-in templates/ directory shipped with the package. */
export function builtinTemplateDir(): string {
  return fileURLToPath(new URL('../../../templates/', import.meta.url));
}

export interface TemplateFile {
  path: string;
  text: string;
}

/** Names starting with a dot are kubelet's `..data` machinery or hidden files. */
export function isTemplateFile(name: string): boolean {
  return !name.startsWith('.') && (name.endsWith('.yaml') || name.endsWith('.yml'));
}

export async function readTemplateFiles(dir: string): Promise<TemplateFile[]> {
  const names = (await readdir(dir)).filter(isTemplateFile).sort();
  return Promise.all(
    names.map(async (name) => ({ path: join(dir, name), text: await readFile(join(dir, name), 'utf8') })),
  );
}

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

export interface LoadOptions {
  /** What `{{ sidekick.image }}` stands for: sidekick's own image (`--image`). */
  image?: string;
}

/**
 * The one placeholder a template may hold outside its parameters, and only as the whole of
 * spec.container.image: sidekick's own image, given once to the server (`--image`), so that an
 * override of the image reaches config-watcher's sidecars too. Parameters never pick an image.
 */
export const SIDEKICK_IMAGE_PLACEHOLDER = '{{ sidekick.image }}';
const WHOLE_PLACEHOLDER = /^\{\{\s*sidekick\.image\s*\}\}$/;
const ANY_PLACEHOLDER = /\{\{\s*sidekick\.image\s*\}\}/;

function placeholderPaths(value: Json, path: string): string[] {
  if (typeof value === 'string') return ANY_PLACEHOLDER.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => placeholderPaths(item, `${path}[${i}]`));
  if (isObject(value))
    return Object.entries(value).flatMap(([key, item]) =>
      placeholderPaths(item, path === '' ? key : `${path}.${key}`),
    );
  return [];
}

/** The document with its image placeholder replaced, or the places it may not stand. */
function withSidekickImage(
  content: Json,
  image: string,
  source: string,
): { content: Json; problems: string[] } {
  const container = isObject(content) && isObject(content.spec) ? content.spec.container : undefined;
  let replaced = content;
  if (isObject(container) && typeof container.image === 'string' && WHOLE_PLACEHOLDER.test(container.image)) {
    replaced = structuredClone(content);
    const spec = isObject(replaced) ? replaced.spec : undefined;
    if (isObject(spec) && isObject(spec.container)) spec.container.image = image;
  }
  const problems = placeholderPaths(replaced, '').map(
    (path) =>
      `${source}: ${path}: ${SIDEKICK_IMAGE_PLACEHOLDER} stands only as the whole of spec.container.image`,
  );
  return { content: replaced, problems };
}

/** Pure: the files' texts in, a checked set or every problem out. */
export function parseTemplateFiles(
  files: readonly TemplateFile[],
  dir: string,
  options: LoadOptions = {},
): TemplateLoad {
  const image = options.image ?? DEFAULT_IMAGE;
  const problems: string[] = [];
  const templates = new Map<string, SidecarTemplate>();
  for (const file of files) {
    for (const doc of parseAllDocuments(file.text)) {
      if (doc.errors.length > 0) {
        problems.push(...doc.errors.map((e) => `${file.path}: YAML: ${e.message.split('\n')[0] ?? ''}`));
        continue;
      }
      const raw = doc.toJS({ maxAliasCount: 50 }) as Json;
      if (raw === null) continue;
      const { content, problems: misplaced } = withSidekickImage(raw, image, file.path);
      problems.push(...misplaced);
      if (misplaced.length > 0) continue;
      const { template, problems: found } = parseTemplate(content, file.path);
      problems.push(...found);
      if (!template) continue;
      const other = templates.get(template.name);
      if (other)
        problems.push(`${file.path}: metadata.name: '${template.name}' is also defined in ${other.source}`);
      templates.set(template.name, template);
    }
  }
  if (files.length === 0) problems.push(`${dir}: no template files (*.yaml)`);
  problems.push(...crossCheck(templates));
  if (problems.length > 0) return { ok: false, problems };
  const warnings = [...templates.values()].flatMap((t) => [
    ...restrictedViolations(t).map((v) => `${t.source}: not Pod Security 'restricted' compliant: ${v}`),
    ...lintTemplate(t).map((v) => `${t.source}: template ${t.name}: ${v}`),
  ]);
  const sorted = [...templates.values()].sort((a, b) => a.name.localeCompare(b.name));
  const hash = createHash('sha256')
    .update(sorted.map((t) => `${t.name}:${t.hash}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const set: TemplateSet = { templates: new Map(sorted.map((t) => [t.name, t])), warnings, hash, dir };
  return { ok: true, set };
}

export async function loadTemplateDir(dir: string, options: LoadOptions = {}): Promise<TemplateLoad> {
  let files: TemplateFile[];
  try {
    files = await readTemplateFiles(dir);
  } catch (error) {
    return { ok: false, problems: [`${dir}: ${error instanceof Error ? error.message : String(error)}`] };
  }
  return parseTemplateFiles(files, dir, options);
}
